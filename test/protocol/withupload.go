package protocol

import (
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"testing"
)

func (s *suite) creationWithUpload(t *testing.T) {
	sv := s.start(t, defaultConfig())

	t.Run("E40_CWU4_post_with_whole_body_is_201_with_offset_and_complete", func(t *testing.T) {
		data := payload(20_000, 40)
		r := sv.post(t, tus("Upload-Length", "20000", "Content-Type", offsetOctet), data)
		wantStatus(t, r, http.StatusCreated)
		wantHeader(t, r, "Upload-Offset", "20000")
		url := r.get("Location")
		sv.wantOffset(t, url, 20000)
		sv.wantContent(t, url, data)
	})

	t.Run("E41_post_with_partial_body_then_patch_the_rest", func(t *testing.T) {
		data := payload(9000, 41)
		r := sv.post(t, tus("Upload-Length", "9000", "Content-Type", offsetOctet), data[:4000])
		wantStatus(t, r, http.StatusCreated)
		wantHeader(t, r, "Upload-Offset", "4000")
		wantHTTPDate(t, r, "Upload-Expires")
		url := r.get("Location")
		sv.patchOK(t, url, 4000, data[4000:])
		sv.wantContent(t, url, data)
	})

	t.Run("CWU2_post_with_body_on_a_deferred_upload", func(t *testing.T) {
		r := sv.post(t, tus("Upload-Defer-Length", "1", "Content-Type", offsetOctet), []byte("abc"))
		wantStatus(t, r, http.StatusCreated)
		wantHeader(t, r, "Upload-Offset", "3")
		url := r.get("Location")
		sv.patchOK(t, url, 3, []byte("de"), "Upload-Length", "5")
		sv.wantContent(t, url, []byte("abcde"))
	})

	t.Run("CWU2_post_with_chunked_body", func(t *testing.T) {
		data := payload(3000, 412)
		req := sv.request(t, http.MethodPost, basePath, tus("Upload-Length", "3000", "Content-Type", offsetOctet), nil)
		req.Body, req.ContentLength, req.TransferEncoding = readCloser(data), -1, []string{"chunked"}
		r := sv.send(t, req)
		wantStatus(t, r, http.StatusCreated)
		wantHeader(t, r, "Upload-Offset", "3000")
		sv.wantContent(t, r.get("Location"), data)
	})

	t.Run("E42_CWU6_post_with_body_and_wrong_content_type_is_415_and_creates_nothing", func(t *testing.T) {
		for _, ct := range []string{"", "application/octet-stream", "text/plain"} {
			sv.noneCreated(t, func() {
				h := tus("Upload-Length", "5")
				if ct != "" {
					h.Set("Content-Type", ct)
				}
				r := sv.post(t, h, []byte("hello"))
				if r.status != http.StatusUnsupportedMediaType {
					t.Errorf("Content-Type %q with a body → %d, want 415", ct, r.status)
				}
				wantNoHeader(t, r, "Location")
			})
		}
		// Without a body the Content-Type does not matter.
		r := sv.post(t, tus("Upload-Length", "5", "Content-Type", "text/plain"), nil)
		wantStatus(t, r, http.StatusCreated)
	})

	t.Run("CWU5_invalid_creation_with_upload_is_refused_before_reading_the_body", func(t *testing.T) {
		// With Expect: 100-continue the refusal comes instead of the 100
		// that would invite the body.
		for _, c := range []struct {
			lines []string
			want  int
		}{
			{[]string{"Upload-Length: 5", "Content-Type: text/plain"}, http.StatusUnsupportedMediaType},
			{[]string{"Upload-Length: 3", "Content-Type: " + offsetOctet}, http.StatusRequestEntityTooLarge},
			{[]string{"Upload-Length: 5", "Content-Type: " + offsetOctet, "Upload-Checksum: md9 AAAA"}, http.StatusBadRequest},
			{[]string{"Content-Type: " + offsetOctet}, http.StatusBadRequest},
		} {
			rc := sv.dial(t)
			rc.writeRequest(t, http.MethodPost, basePath, append([]string{"Tus-Resumable: 1.0.0", "Content-Length: 5",
				"Expect: 100-continue"}, c.lines...)...)
			wantStatus(t, rc.readResponse(t, http.MethodPost), c.want)
		}
	})

	t.Run("E43_CWU7_post_body_longer_than_upload_length_is_413", func(t *testing.T) {
		r := sv.post(t, tus("Upload-Length", "3", "Content-Type", offsetOctet), []byte("abcdef"))
		wantStatus(t, r, http.StatusRequestEntityTooLarge)
		req := sv.request(t, http.MethodPost, basePath, tus("Upload-Length", "3", "Content-Type", offsetOctet), nil)
		req.Body, req.ContentLength, req.TransferEncoding = readCloser([]byte("abcdef")), -1, []string{"chunked"}
		r = sv.send(t, req)
		wantStatus(t, r, http.StatusRequestEntityTooLarge)
		if loc := r.get("Location"); loc != "" {
			sv.wantOffset(t, loc, 3) // stored exactly up to the length
		}
	})

	t.Run("E44_CWU7_post_body_on_final_upload_is_refused", func(t *testing.T) {
		a := sv.upload(t, []byte("x"), "Upload-Concat", "partial")
		sv.noneCreated(t, func() {
			r := sv.post(t, tus("Upload-Concat", "final;"+a, "Content-Type", offsetOctet), []byte("y"))
			wantStatus(t, r, http.StatusForbidden)
			wantNoHeader(t, r, "Location")
		})
	})

	t.Run("E54_CWU7_checksum_mismatch_on_post_is_460_and_keeps_the_empty_upload", func(t *testing.T) {
		wrong := sha1.Sum([]byte("other"))
		r := sv.post(t, tus("Upload-Length", "5", "Content-Type", offsetOctet,
			"Upload-Checksum", "sha1 "+base64.StdEncoding.EncodeToString(wrong[:])), []byte("hello"))
		wantStatus(t, r, 460)
		url := r.get("Location")
		idOf(t, url)
		sv.wantOffset(t, url, 0)
		sv.patchOK(t, url, 0, []byte("hello"))
		sv.wantContent(t, url, []byte("hello"))
	})

	t.Run("E54_checksum_match_on_post_is_201", func(t *testing.T) {
		sum := sha1.Sum([]byte("hello"))
		r := sv.post(t, tus("Upload-Length", "5", "Content-Type", offsetOctet,
			"Upload-Checksum", "sha1 "+base64.StdEncoding.EncodeToString(sum[:])), []byte("hello"))
		wantStatus(t, r, http.StatusCreated)
		wantHeader(t, r, "Upload-Offset", "5")
		sv.wantContent(t, r.get("Location"), []byte("hello"))
	})

	t.Run("E54_unknown_checksum_algorithm_on_post_is_400_and_creates_nothing", func(t *testing.T) {
		sv.noneCreated(t, func() {
			r := sv.post(t, tus("Upload-Length", "5", "Content-Type", offsetOctet, "Upload-Checksum", "md9 AAAA"), []byte("hello"))
			wantStatus(t, r, http.StatusBadRequest)
			wantNoHeader(t, r, "Location")
		})
	})
}
