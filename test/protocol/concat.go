package protocol

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tusgate/tusgate/backends"
)

func (s *suite) concatenation(t *testing.T) {
	sv := s.start(t, defaultConfig())

	partial := func(t *testing.T, data []byte, kv ...string) string {
		t.Helper()
		return sv.upload(t, data, append([]string{"Upload-Concat", "partial"}, kv...)...)
	}
	final := func(t *testing.T, concat string, kv ...string) *resp {
		t.Helper()
		return sv.post(t, tus(append([]string{"Upload-Concat", concat}, kv...)...), nil)
	}

	t.Run("E60_CC4_CC6_CC11_CC14_CC15_final_of_two_finished_partials", func(t *testing.T) {
		pr := sv.post(t, tus("Upload-Length", "5", "Upload-Concat", "partial"), nil)
		wantStatus(t, pr, http.StatusCreated)
		wantHeader(t, pr, "Upload-Concat", "partial")
		a := pr.get("Location")
		sv.patchOK(t, a, 0, []byte("hello"))
		b := partial(t, []byte(" world"))
		concat := "final;" + a + " " + b
		r := final(t, concat)
		wantStatus(t, r, http.StatusCreated)
		wantHeader(t, r, "Upload-Concat", concat)
		url := r.get("Location")
		idOf(t, url)
		h := sv.head(t, url)
		wantStatus(t, h, http.StatusOK)
		wantHeader(t, h, "Upload-Length", "11")
		wantHeader(t, h, "Upload-Offset", "11")
		wantHeader(t, h, "Upload-Concat", concat)
		wantNoHeader(t, h, "Upload-Expires")
		sv.wantContent(t, url, []byte("hello world"))
	})

	t.Run("E61_CC4_final_with_relative_urls_is_accepted_and_echoed", func(t *testing.T) {
		a := partial(t, []byte("abc"))
		b := partial(t, []byte("defg"))
		concat := "final;" + pathOf(t, a) + " " + pathOf(t, b)
		r := final(t, concat)
		wantStatus(t, r, http.StatusCreated)
		wantHeader(t, r, "Upload-Concat", concat)
		url := r.get("Location")
		wantHeader(t, sv.head(t, url), "Upload-Concat", concat)
		sv.wantContent(t, url, []byte("abcdefg"))
		// Mixed absolute and relative.
		c := partial(t, []byte("hij"))
		mixed := "final;" + a + " " + pathOf(t, b) + " " + c
		r = final(t, mixed)
		wantStatus(t, r, http.StatusCreated)
		sv.wantContent(t, r.get("Location"), []byte("abcdefghij"))
	})

	// A partial listed twice would let a short request write a huge object
	// (one 40 KB header naming a 1 MiB partial 1,000 times wrote 1 GB), so
	// tusgate refuses it; reusing a partial in several finals stays allowed.
	t.Run("E62_CC9_partial_listed_twice_is_400_reused_in_two_finals_is_fine", func(t *testing.T) {
		a := partial(t, []byte("xy"))
		for _, concat := range []string{"final;" + a + " " + a, "final;" + a + " " + pathOf(t, a)} {
			sv.noneCreated(t, func() {
				wantStatus(t, final(t, concat), http.StatusBadRequest)
			})
		}
		r := final(t, "final;"+a)
		wantStatus(t, r, http.StatusCreated)
		one := r.get("Location")
		r = final(t, "final;"+a)
		wantStatus(t, r, http.StatusCreated)
		two := r.get("Location")
		sv.wantContent(t, one, []byte("xy"))
		sv.wantContent(t, two, []byte("xy"))
		sv.wantContent(t, a, []byte("xy")) // the partial stays usable
	})

	t.Run("E63_CC5_final_with_upload_length_is_400", func(t *testing.T) {
		a := partial(t, []byte("abc"))
		for _, kv := range [][]string{{"Upload-Length", "3"}, {"Upload-Defer-Length", "1"}} {
			sv.noneCreated(t, func() {
				r := final(t, "final;"+a, kv...)
				wantStatus(t, r, http.StatusBadRequest)
				wantNoHeader(t, r, "Location")
			})
		}
	})

	t.Run("E64_CC10_P13_patch_to_final_is_403_and_partials_unchanged", func(t *testing.T) {
		a := partial(t, []byte("abc"))
		r := final(t, "final;"+a)
		wantStatus(t, r, http.StatusCreated)
		url := r.get("Location")
		for _, off := range []int64{0, 3} {
			wantStatus(t, sv.patch(t, url, off, []byte("zzz")), http.StatusForbidden)
		}
		wantStatus(t, sv.patch(t, url, 3, nil), http.StatusForbidden)
		sv.wantContent(t, url, []byte("abc"))
		sv.wantOffset(t, a, 3)
		sv.wantContent(t, a, []byte("abc"))
	})

	t.Run("E65_CC12_CC14_head_on_partial_has_concat_and_offset", func(t *testing.T) {
		a := sv.create(t, 6, "Upload-Concat", "partial")
		h := sv.head(t, a)
		wantHeader(t, h, "Upload-Concat", "partial")
		wantHeader(t, h, "Upload-Offset", "0")
		wantHeader(t, h, "Upload-Length", "6")
		sv.patchOK(t, a, 0, []byte("abc"))
		wantHeader(t, sv.head(t, a), "Upload-Offset", "3")
	})

	t.Run("E66_E73_CU1_CU2_final_before_partials_finish_has_no_offset_until_they_do", func(t *testing.T) {
		wantList(t, sv.do(t, http.MethodOptions, basePath, nil, nil), "Tus-Extension", "concatenation-unfinished")
		a := sv.create(t, 5, "Upload-Concat", "partial")
		b := sv.create(t, 6, "Upload-Concat", "partial")
		concat := "final;" + a + " " + b
		r := final(t, concat)
		wantStatus(t, r, http.StatusCreated)
		wantNoHeader(t, r, "Upload-Offset")
		url := r.get("Location")
		h := sv.head(t, url)
		wantStatus(t, h, http.StatusOK)
		wantNoHeader(t, h, "Upload-Offset")
		wantHeader(t, h, "Upload-Length", "11")
		wantHeader(t, h, "Upload-Concat", concat)
		wantStatus(t, sv.do(t, http.MethodGet, url, nil, nil), http.StatusConflict)
		sv.patchOK(t, b, 0, []byte(" world"))
		wantNoHeader(t, sv.head(t, url), "Upload-Offset")
		sv.patchOK(t, a, 0, []byte("hello"))
		h = sv.head(t, url)
		wantHeader(t, h, "Upload-Offset", "11")
		wantHeader(t, h, "Upload-Length", "11")
		sv.wantContent(t, url, []byte("hello world"))
	})

	t.Run("E67_CU2_final_over_deferred_partial_gets_its_length_when_declared", func(t *testing.T) {
		a := partial(t, []byte("head-"))
		b := sv.createDeferred(t, "Upload-Concat", "partial")
		r := final(t, "final;"+a+" "+b)
		wantStatus(t, r, http.StatusCreated)
		url := r.get("Location")
		h := sv.head(t, url)
		wantNoHeader(t, h, "Upload-Offset")
		wantNoHeader(t, h, "Upload-Length")
		sv.patchOK(t, b, 0, []byte("ta"))
		sv.patchOK(t, b, 2, []byte("il"), "Upload-Length", "6")
		h = sv.head(t, url)
		wantNoHeader(t, h, "Upload-Offset")
		wantHeader(t, h, "Upload-Length", "11")
		sv.patchOK(t, b, 4, []byte("!!"))
		h = sv.head(t, url)
		wantHeader(t, h, "Upload-Offset", "11")
		wantHeader(t, h, "Upload-Length", "11")
		sv.wantContent(t, url, []byte("head-tail!!"))
	})

	t.Run("E68_CC16_final_referencing_non_partial_is_400", func(t *testing.T) {
		a := partial(t, []byte("abc"))
		plain := sv.upload(t, []byte("def"))
		sv.noneCreated(t, func() {
			r := final(t, "final;"+a+" "+plain)
			wantStatus(t, r, http.StatusBadRequest)
			wantNoHeader(t, r, "Location")
		})
		// A final upload is not a partial either.
		r := final(t, "final;"+a)
		wantStatus(t, r, http.StatusCreated)
		wantStatus(t, final(t, "final;"+r.get("Location")), http.StatusBadRequest)
	})

	t.Run("E69_CC16_final_referencing_unknown_is_404_and_foreign_host_is_400", func(t *testing.T) {
		a := partial(t, []byte("abc"))
		sv.noneCreated(t, func() {
			for _, ref := range []string{
				sv.srv.URL + basePath + "0123456789abcdef0123456789abcdef",
				basePath + "0123456789abcdef0123456789abcdef",
				basePath + "not-an-id",
				"/elsewhere/" + idOf(t, a),
			} {
				if r := final(t, "final;"+a+" "+ref); r.status != http.StatusNotFound {
					t.Errorf("final referencing %q → %d, want 404", ref, r.status)
				}
			}
			foreign := strings.Replace(a, sv.srv.Listener.Addr().String(), "uploads.example.invalid", 1)
			r := final(t, "final;"+foreign)
			wantStatus(t, r, http.StatusBadRequest)
		})
	})

	t.Run("E70_CC16_malformed_upload_concat_is_400", func(t *testing.T) {
		a := partial(t, []byte("abc"))
		sv.noneCreated(t, func() {
			for _, c := range []struct {
				value  string
				length bool // send Upload-Length, as a partial would
			}{
				{"final;", false}, {"final", false}, {"Final;" + a, false}, {"final; " + a, false},
				{"final;" + a + "  " + a, false}, {"final:" + a, false},
				{"partial;x", true}, {"PARTIAL", true}, {"partially", true}, {"", true},
			} {
				h := tus("Upload-Concat", c.value)
				if c.length {
					h.Set("Upload-Length", "3")
				}
				if r := sv.post(t, h, nil); r.status != http.StatusBadRequest {
					t.Errorf("Upload-Concat %q → %d, want 400", c.value, r.status)
				}
			}
		})
	})

	t.Run("E71_CC16_partials_summing_above_max_size_is_413", func(t *testing.T) {
		a := sv.create(t, maxSize/2+1, "Upload-Concat", "partial")
		b := sv.create(t, maxSize/2+1, "Upload-Concat", "partial")
		sv.noneCreated(t, func() {
			r := final(t, "final;"+a+" "+b)
			wantStatus(t, r, http.StatusRequestEntityTooLarge)
			wantNoHeader(t, r, "Location")
		})
	})

	t.Run("E72_CC8_partial_metadata_stays_off_the_final_and_final_metadata_is_echoed", func(t *testing.T) {
		a := partial(t, []byte("ab"), "Upload-Metadata", "filename YS50eHQ=")
		h := sv.head(t, a)
		wantHeader(t, h, "Upload-Metadata", "filename YS50eHQ=")
		r := final(t, "final;"+a)
		wantStatus(t, r, http.StatusCreated)
		wantNoHeader(t, sv.head(t, r.get("Location")), "Upload-Metadata")
		r = final(t, "final;"+a, "Upload-Metadata", "filename Zi50eHQ=,kind")
		wantStatus(t, r, http.StatusCreated)
		wantHeader(t, sv.head(t, r.get("Location")), "Upload-Metadata", "filename Zi50eHQ=,kind")
	})

	t.Run("EX5_partial_carries_upload_expires_only_while_unfinished", func(t *testing.T) {
		a := sv.create(t, 2, "Upload-Concat", "partial")
		wantHTTPDate(t, sv.head(t, a), "Upload-Expires")
		sv.patchOK(t, a, 0, []byte("ok"))
		wantNoHeader(t, sv.head(t, a), "Upload-Expires")
	})

	t.Run("E74_CC16_concatenation_unsupported_by_backend_upload_concat_is_400", func(t *testing.T) {
		env := s.newEnv(t)
		env.Backend = noConcat{env.Backend}
		plain := s.startEnv(t, defaultConfig(), env)
		o := plain.do(t, http.MethodOptions, basePath, nil, nil)
		for _, e := range strings.Split(o.get("Tus-Extension"), ",") {
			if strings.HasPrefix(e, "concatenation") {
				t.Errorf("Tus-Extension %q offers %s without a Concater", o.get("Tus-Extension"), e)
			}
		}
		plain.noneCreated(t, func() {
			wantStatus(t, plain.post(t, tus("Upload-Length", "3", "Upload-Concat", "partial"), nil), http.StatusBadRequest)
			wantStatus(t, plain.post(t, tus("Upload-Concat", "final;"+basePath+"0123456789abcdef0123456789abcdef"), nil), http.StatusBadRequest)
		})
	})
}

// noConcat hides every optional ability of a backend, concatenation included.
type noConcat struct{ backends.Backend }
