package protocol

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

func (s *suite) creation(t *testing.T) {
	sv := s.start(t, defaultConfig())

	t.Run("E8_HD1_HD2_HD4_HD5_post_upload_length_then_head_shows_offset_0_length_and_no_store", func(t *testing.T) {
		r := sv.post(t, tus("Upload-Length", "100"), nil)
		wantStatus(t, r, http.StatusCreated)
		url := r.get("Location")
		idOf(t, url)
		h := sv.head(t, url)
		wantStatus(t, h, http.StatusOK)
		wantHeader(t, h, "Upload-Offset", "0")
		wantHeader(t, h, "Upload-Length", "100")
		wantHeader(t, h, "Cache-Control", "no-store")
		wantNoHeader(t, h, "Upload-Defer-Length")
		wantNoHeader(t, h, "Upload-Metadata")
		wantNoHeader(t, h, "Upload-Concat")
	})

	t.Run("E9_CR5_upload_length_0_is_complete_on_creation", func(t *testing.T) {
		finished := sv.counter(t, "tusgate_uploads_finished_total")
		r := sv.post(t, tus("Upload-Length", "0"), nil)
		wantStatus(t, r, http.StatusCreated)
		url := r.get("Location")
		wantHeader(t, r, "Upload-Offset", "0")
		wantNoHeader(t, r, "Upload-Expires") // finished: it will not expire
		h := sv.head(t, url)
		wantHeader(t, h, "Upload-Offset", "0")
		wantHeader(t, h, "Upload-Length", "0")
		sv.wantContent(t, url, []byte{})
		// Complete: an empty PATCH at 0 is accepted, a byte is too many.
		sv.patchOK(t, url, 0, nil)
		wantStatus(t, sv.patch(t, url, 0, []byte("x")), http.StatusRequestEntityTooLarge)
		if got := sv.counter(t, "tusgate_uploads_finished_total") - finished; got != 1 {
			t.Errorf("the empty upload was finished %v times, want once", got)
		}
	})

	t.Run("E10_CR4_post_without_length_headers_is_400", func(t *testing.T) {
		sv.noneCreated(t, func() {
			r := sv.post(t, tus(), nil)
			wantStatus(t, r, http.StatusBadRequest)
			wantNoHeader(t, r, "Location")
		})
	})

	t.Run("E11_CR4_post_with_both_length_headers_is_400", func(t *testing.T) {
		sv.noneCreated(t, func() {
			r := sv.post(t, tus("Upload-Length", "10", "Upload-Defer-Length", "1"), nil)
			wantStatus(t, r, http.StatusBadRequest)
			wantNoHeader(t, r, "Location")
		})
	})

	t.Run("E12_CR3_upload_defer_length_other_than_1_is_400", func(t *testing.T) {
		for _, v := range []string{"0", "true", "2", "", "01"} {
			sv.noneCreated(t, func() {
				r := sv.post(t, tus("Upload-Defer-Length", v), nil)
				wantStatus(t, r, http.StatusBadRequest)
				wantNoHeader(t, r, "Location")
			})
		}
	})

	t.Run("E13_H7_malformed_upload_length_is_400_and_creates_nothing", func(t *testing.T) {
		for _, v := range []string{"-1", "abc", "1e3", "1.5", "+1", "0x10", "", "99999999999999999999", "9223372036854775808"} {
			sv.noneCreated(t, func() {
				r := sv.post(t, tus("Upload-Length", v), nil)
				if r.status != http.StatusBadRequest {
					t.Errorf("Upload-Length %q → %d, want 400", v, r.status)
				}
				wantNoHeader(t, r, "Location")
			})
		}
	})

	t.Run("E14_CR6_length_above_max_size_is_413_and_equal_is_201", func(t *testing.T) {
		sv.noneCreated(t, func() {
			r := sv.post(t, tus("Upload-Length", strconv.Itoa(maxSize+1)), nil)
			wantStatus(t, r, http.StatusRequestEntityTooLarge)
			wantNoHeader(t, r, "Location")
		})
		url := sv.create(t, maxSize)
		wantHeader(t, sv.head(t, url), "Upload-Length", strconv.Itoa(maxSize))
	})

	t.Run("E15_HD6_metadata_is_echoed_exactly", func(t *testing.T) {
		for _, md := range []string{
			"filename d29ybGQ=,is_confidential",
			"b Yg==,a YQ==,c Yw==", // order kept, not re-serialised from a map
			"filename d29ybGQ=, filetype dGV4dC9wbGFpbg==",
		} {
			url := sv.create(t, 1, "Upload-Metadata", md)
			wantHeader(t, sv.head(t, url), "Upload-Metadata", md)
		}
	})

	t.Run("E16_metadata_key_without_value_is_201_and_echoed", func(t *testing.T) {
		for _, md := range []string{"key", "key ,other dGVzdA==", "a,b,c"} {
			url := sv.create(t, 1, "Upload-Metadata", md)
			wantHeader(t, sv.head(t, url), "Upload-Metadata", md)
		}
		// "key " (trailing space) cannot be sent by net/http, which trims
		// header values; on the wire the server's parser trims it too, and
		// the echo is the value as received.
		rc := sv.dial(t)
		rc.writeRequest(t, http.MethodPost, basePath, "Tus-Resumable: 1.0.0", "Upload-Length: 1",
			"Upload-Metadata: key ", "Content-Length: 0")
		r := rc.readResponse(t, http.MethodPost)
		wantStatus(t, r, http.StatusCreated)
		wantHeader(t, sv.head(t, r.get("Location")), "Upload-Metadata", "key")
	})

	t.Run("E17_CR9_invalid_metadata_is_400_and_creates_nothing", func(t *testing.T) {
		// The checklist's " dGVzdA==" cannot reach a handler as an empty
		// key: HTTP parsers strip leading whitespace from field values (and
		// after a comma it is list whitespace), so empty keys are tested as
		// empty pairs.
		for _, md := range []string{
			"a YQ==,a Yg==",      // duplicate key
			",a YQ==",            // empty key (leading)
			"a YQ==,,b Yg==",     // empty key (between)
			"clé dGVzdA==",       // non-ASCII key
			"a !!!",              // not base64
			"a YQ",               // unpadded base64
			"a YQ== Yg==",        // more than one space
			"a\tYQ==",            // tab is not the separator
			"filename d29ybGQ=,", // trailing comma: empty key
		} {
			sv.noneCreated(t, func() {
				r := sv.post(t, tus("Upload-Length", "1", "Upload-Metadata", md), nil)
				if r.status != http.StatusBadRequest {
					t.Errorf("Upload-Metadata %q → %d, want 400", md, r.status)
				}
				wantNoHeader(t, r, "Location")
			})
		}
	})

	t.Run("E18_CR10_metadata_decoding_to_crlf_is_never_reflected_raw", func(t *testing.T) {
		evil := "a\r\nX-Injected: 1\r\n\r\nbody"
		md := "filename " + base64.StdEncoding.EncodeToString([]byte(evil)) +
			",filetype " + base64.StdEncoding.EncodeToString([]byte("text/plain\r\nX-Injected: 2"))
		url := sv.create(t, 2, "Upload-Metadata", md)
		h := sv.head(t, url)
		wantHeader(t, h, "Upload-Metadata", md)
		wantNoHeader(t, h, "X-Injected")
		sv.patchOK(t, url, 0, []byte("ok"))
		g := sv.do(t, http.MethodGet, url, nil, nil)
		wantStatus(t, g, http.StatusOK)
		wantNoHeader(t, g, "X-Injected")
		for name, vals := range g.header {
			for _, v := range vals {
				if strings.ContainsAny(v, "\r\n") {
					t.Errorf("GET header %s = %q contains CR/LF", name, v)
				}
			}
		}
		if string(g.body) != "ok" {
			t.Errorf("GET body %q, want %q", g.body, "ok")
		}
	})

	t.Run("CR8_new_upload_starts_at_offset_0_and_ids_are_unique", func(t *testing.T) {
		seen := map[string]bool{}
		for range 20 {
			url := sv.create(t, 7)
			if seen[url] {
				t.Fatalf("Location %s handed out twice", url)
			}
			seen[url] = true
		}
	})

	t.Run("malformed_upload_id_is_404_for_every_method", func(t *testing.T) {
		for _, id := range []string{"nothex", "0123456789ABCDEF0123456789ABCDEF", "0123456789abcdef0123456789abcde",
			"0123456789abcdef0123456789abcdef0", "0123456789abcdef0123456789abcdeg",
			"a", "has.dot", "has%20space", "a%2F..%2Fb", strings.Repeat("a", 65)} {
			target := basePath + id
			for _, r := range []*resp{
				sv.head(t, target),
				sv.patch(t, target, 0, []byte("x")),
				sv.do(t, http.MethodDelete, target, tus(), nil),
				sv.do(t, http.MethodGet, target, nil, nil),
			} {
				if r.status != http.StatusNotFound {
					t.Errorf("%s %s → %d, want 404", r.method, target, r.status)
				}
				wantNoHeader(t, r, "Upload-Offset")
			}
		}
	})

	t.Run("HD3_head_of_unknown_upload_is_404_without_offset", func(t *testing.T) {
		r := sv.head(t, basePath+"0123456789abcdef0123456789abcdef")
		wantStatus(t, r, http.StatusNotFound)
		wantNoHeader(t, r, "Upload-Offset")
		wantNoHeader(t, r, "Upload-Length")
	})

	t.Run("HD9_head_responses_have_no_body_on_the_wire", func(t *testing.T) {
		url := sv.create(t, 3)
		for _, target := range []string{pathOf(t, url), basePath + "0123456789abcdef0123456789abcdef"} {
			rc := sv.dial(t)
			rc.writeRequest(t, http.MethodHead, target, "Tus-Resumable: 1.0.0", "Connection: close")
			_ = rc.readResponse(t, http.MethodHead)
			// Whatever follows the header block on a closed connection
			// would be a body the client was not meant to get.
			rest := make([]byte, 1)
			if n, _ := rc.br.Read(rest); n > 0 {
				t.Errorf("HEAD %s: bytes follow the response header block", target)
			}
		}
	})
}
