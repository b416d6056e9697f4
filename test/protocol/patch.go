package protocol

import (
	"net/http"
	"strconv"
	"testing"
)

func (s *suite) patch(t *testing.T) {
	sv := s.start(t, defaultConfig())

	t.Run("E20_P4_patch_at_offset_0_is_204_with_the_new_offset", func(t *testing.T) {
		url := sv.create(t, 11)
		r := sv.patch(t, url, 0, []byte("hello world"))
		wantStatus(t, r, http.StatusNoContent)
		wantHeader(t, r, "Upload-Offset", "11")
		if len(r.body) != 0 {
			t.Errorf("204 with a body %q", r.body)
		}
		sv.wantOffset(t, url, 11)
		sv.wantContent(t, url, []byte("hello world"))
	})

	t.Run("E21_P3_patch_with_wrong_offset_is_409_and_leaves_data", func(t *testing.T) {
		url := sv.create(t, 11)
		sv.patchOK(t, url, 0, []byte("hello"))
		for _, off := range []int64{0, 4, 6, 11} { // behind and ahead
			r := sv.patch(t, url, off, []byte("XXXXXX"))
			wantStatus(t, r, http.StatusConflict)
			sv.wantOffset(t, url, 5)
		}
		sv.patchOK(t, url, 5, []byte(" world"))
		sv.wantContent(t, url, []byte("hello world"))
	})

	t.Run("E22_P2_patch_with_wrong_content_type_is_415_and_leaves_offset", func(t *testing.T) {
		url := sv.create(t, 4)
		for _, ct := range []string{"", "application/octet-stream", "text/plain", "application/offset+octet-streamx", "garbage/;;"} {
			h := tus("Upload-Offset", "0")
			if ct != "" {
				h.Set("Content-Type", ct)
			}
			r := sv.do(t, http.MethodPatch, url, h, []byte("data"))
			if r.status != http.StatusUnsupportedMediaType {
				t.Errorf("Content-Type %q → %d, want 415", ct, r.status)
			}
			sv.wantOffset(t, url, 0)
		}
	})

	t.Run("E23_P11_H6_bad_or_missing_upload_offset_is_400_and_leaves_offset", func(t *testing.T) {
		url := sv.create(t, 4)
		r := sv.do(t, http.MethodPatch, url, tus("Content-Type", offsetOctet), []byte("data"))
		wantStatus(t, r, http.StatusBadRequest)
		for _, v := range []string{"-1", "x", "1.5", "", "+0", "1e1", "99999999999999999999"} {
			r := sv.do(t, http.MethodPatch, url, tus("Content-Type", offsetOctet, "Upload-Offset", v), []byte("data"))
			if r.status != http.StatusBadRequest {
				t.Errorf("Upload-Offset %q → %d, want 400", v, r.status)
			}
		}
		sv.wantOffset(t, url, 0)
	})

	t.Run("E24_P5_patch_to_unknown_upload_is_404_without_offset", func(t *testing.T) {
		r := sv.patch(t, basePath+"0123456789abcdef0123456789abcdef", 0, []byte("x"))
		wantStatus(t, r, http.StatusNotFound)
		wantNoHeader(t, r, "Upload-Offset")
	})

	t.Run("E25_P10_body_longer_than_remaining_with_content_length_is_413_before_reading", func(t *testing.T) {
		url := sv.create(t, 6)
		sv.patchOK(t, url, 0, []byte("ab"))
		r := sv.patch(t, url, 2, []byte("cdefgh"))
		wantStatus(t, r, http.StatusRequestEntityTooLarge)
		sv.wantOffset(t, url, 2)
		// Before reading: with Expect: 100-continue the 413 comes instead
		// of the 100 that would invite the body.
		rc := sv.dial(t)
		rc.writeRequest(t, http.MethodPatch, pathOf(t, url), "Tus-Resumable: 1.0.0", "Content-Type: "+offsetOctet,
			"Upload-Offset: 2", "Content-Length: 5", "Expect: 100-continue")
		wantStatus(t, rc.readResponse(t, http.MethodPatch), http.StatusRequestEntityTooLarge)
		sv.wantOffset(t, url, 2)
		sv.patchOK(t, url, 2, []byte("cdef"))
		sv.wantContent(t, url, []byte("abcdef"))
	})

	t.Run("E26_P10_chunked_body_longer_than_remaining_is_413_after_storing_up_to_the_length", func(t *testing.T) {
		data := payload(3000, 26)
		url := sv.create(t, 2000)
		sv.patchOK(t, url, 0, data[:500])
		r := sv.patchChunked(t, url, 500, data[500:])
		wantStatus(t, r, http.StatusRequestEntityTooLarge)
		sv.wantOffset(t, url, 2000)
		sv.wantContent(t, url, data[:2000])
	})

	t.Run("P8_chunked_patch_without_content_length_is_accepted", func(t *testing.T) {
		data := payload(5000, 8)
		url := sv.create(t, 5000)
		r := sv.patchChunked(t, url, 0, data[:1234])
		wantStatus(t, r, http.StatusNoContent)
		wantHeader(t, r, "Upload-Offset", "1234")
		r = sv.patchChunked(t, url, 1234, data[1234:])
		wantStatus(t, r, http.StatusNoContent)
		wantHeader(t, r, "Upload-Offset", "5000")
		sv.wantContent(t, url, data)
	})

	t.Run("E27_patch_with_empty_body_is_204_and_leaves_offset", func(t *testing.T) {
		url := sv.create(t, 4)
		sv.patchOK(t, url, 0, []byte("ab"))
		r := sv.patch(t, url, 2, []byte{})
		wantStatus(t, r, http.StatusNoContent)
		wantHeader(t, r, "Upload-Offset", "2")
		r = sv.patchChunked(t, url, 2, nil)
		wantStatus(t, r, http.StatusNoContent)
		wantHeader(t, r, "Upload-Offset", "2")
		sv.wantOffset(t, url, 2)
	})

	t.Run("E28_P12_patch_on_completed_upload_empty_is_204_with_body_is_413", func(t *testing.T) {
		url := sv.upload(t, []byte("done"))
		r := sv.patch(t, url, 4, nil)
		wantStatus(t, r, http.StatusNoContent)
		wantHeader(t, r, "Upload-Offset", "4")
		wantStatus(t, sv.patch(t, url, 4, []byte("more")), http.StatusRequestEntityTooLarge)
		wantStatus(t, sv.patchChunked(t, url, 4, []byte("more")), http.StatusRequestEntityTooLarge)
		wantHeader(t, sv.head(t, url), "Upload-Offset", "4") // HD-1: offset on a complete upload
		sv.wantContent(t, url, []byte("done"))
	})

	t.Run("E29_P9_multi_chunk_upload_accumulates_and_content_is_identical", func(t *testing.T) {
		data := payload(300_000, 29)
		url := sv.create(t, int64(len(data)))
		cuts := []int{0, 1, 70_000, 200_001, len(data)}
		for i := 0; i+1 < len(cuts); i++ {
			sv.patchOK(t, url, int64(cuts[i]), data[cuts[i]:cuts[i+1]])
			sv.wantOffset(t, url, int64(cuts[i+1]))
		}
		sv.wantContent(t, url, data)
	})

	t.Run("P1_patch_accepts_any_parameters_on_the_media_type", func(t *testing.T) {
		url := sv.create(t, 3)
		r := sv.do(t, http.MethodPatch, url, tus("Content-Type", offsetOctet+"; charset=binary", "Upload-Offset", "0"), []byte("abc"))
		wantStatus(t, r, http.StatusNoContent)
		wantHeader(t, r, "Upload-Offset", "3")
	})

	t.Run("P14_EX2_patch_on_unfinished_upload_carries_upload_expires", func(t *testing.T) {
		url := sv.create(t, 10)
		r := sv.patch(t, url, 0, []byte("abc"))
		wantStatus(t, r, http.StatusNoContent)
		wantHTTPDate(t, r, "Upload-Expires")
		r = sv.patch(t, url, 3, []byte("defghij"))
		wantStatus(t, r, http.StatusNoContent)
		wantHeader(t, r, "Upload-Offset", strconv.Itoa(10))
		wantNoHeader(t, r, "Upload-Expires") // finished uploads do not expire
	})
}
