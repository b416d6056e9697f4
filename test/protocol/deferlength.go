package protocol

import (
	"net/http"
	"strconv"
	"testing"
)

func (s *suite) deferLength(t *testing.T) {
	sv := s.start(t, defaultConfig())

	t.Run("E34_HD7_DL4_deferred_upload_head_has_defer_header_and_no_length", func(t *testing.T) {
		r := sv.post(t, tus("Upload-Defer-Length", "1"), nil)
		wantStatus(t, r, http.StatusCreated)
		url := r.get("Location")
		h := sv.head(t, url)
		wantStatus(t, h, http.StatusOK)
		wantHeader(t, h, "Upload-Defer-Length", "1")
		wantHeader(t, h, "Upload-Offset", "0")
		wantNoHeader(t, h, "Upload-Length")
		// Bytes may flow before the length is known.
		sv.patchOK(t, url, 0, []byte("abc"))
		h = sv.head(t, url)
		wantHeader(t, h, "Upload-Offset", "3")
		wantHeader(t, h, "Upload-Defer-Length", "1")
	})

	t.Run("E35_DL2_first_patch_declares_the_length", func(t *testing.T) {
		url := sv.createDeferred(t)
		sv.patchOK(t, url, 0, []byte("hello"), "Upload-Length", "11")
		h := sv.head(t, url)
		wantHeader(t, h, "Upload-Length", "11")
		wantNoHeader(t, h, "Upload-Defer-Length")
		sv.patchOK(t, url, 5, []byte(" world"))
		sv.wantContent(t, url, []byte("hello world"))
	})

	t.Run("E36_DL3_repeated_identical_length_is_accepted_different_is_400", func(t *testing.T) {
		url := sv.createDeferred(t)
		sv.patchOK(t, url, 0, []byte("abc"), "Upload-Length", "6")
		r := sv.patch(t, url, 3, []byte("d"), "Upload-Length", "7")
		wantStatus(t, r, http.StatusBadRequest)
		sv.wantOffset(t, url, 3)
		sv.patchOK(t, url, 3, []byte("d"), "Upload-Length", "6") // tolerant: same value
		wantHeader(t, sv.head(t, url), "Upload-Length", "6")
		sv.patchOK(t, url, 4, []byte("ef"))
		sv.wantContent(t, url, []byte("abcdef"))
	})

	t.Run("E36_length_on_patch_of_a_known_length_upload_must_match", func(t *testing.T) {
		url := sv.create(t, 4)
		wantStatus(t, sv.patch(t, url, 0, []byte("ab"), "Upload-Length", "5"), http.StatusBadRequest)
		sv.wantOffset(t, url, 0)
		sv.patchOK(t, url, 0, []byte("ab"), "Upload-Length", "4")
	})

	t.Run("E37_declared_length_below_offset_is_400", func(t *testing.T) {
		url := sv.createDeferred(t)
		sv.patchOK(t, url, 0, []byte("abcdef"))
		r := sv.patch(t, url, 6, nil, "Upload-Length", "5")
		wantStatus(t, r, http.StatusBadRequest)
		h := sv.head(t, url)
		wantHeader(t, h, "Upload-Offset", "6")
		wantHeader(t, h, "Upload-Defer-Length", "1")
	})

	t.Run("E37_declared_length_above_max_size_is_413", func(t *testing.T) {
		url := sv.createDeferred(t)
		r := sv.patch(t, url, 0, []byte("ab"), "Upload-Length", strconv.Itoa(maxSize+1))
		wantStatus(t, r, http.StatusRequestEntityTooLarge)
		h := sv.head(t, url)
		wantHeader(t, h, "Upload-Offset", "0")
		wantHeader(t, h, "Upload-Defer-Length", "1")
		sv.patchOK(t, url, 0, []byte("ab"), "Upload-Length", strconv.Itoa(maxSize))
	})

	t.Run("E37_malformed_declared_length_is_400", func(t *testing.T) {
		url := sv.createDeferred(t)
		for _, v := range []string{"-1", "x", ""} {
			if r := sv.patch(t, url, 0, []byte("ab"), "Upload-Length", v); r.status != http.StatusBadRequest {
				t.Errorf("Upload-Length %q on PATCH → %d, want 400", v, r.status)
			}
		}
		sv.wantOffset(t, url, 0)
	})

	t.Run("E38_DL5_empty_patch_declaring_length_equal_to_offset_completes", func(t *testing.T) {
		data := payload(2500, 38)
		url := sv.createDeferred(t)
		sv.patchOK(t, url, 0, data[:1000])
		sv.patchOK(t, url, 1000, data[1000:])
		wantStatus(t, sv.do(t, http.MethodGet, url, nil, nil), http.StatusConflict) // not complete yet
		sv.patchOK(t, url, 2500, nil, "Upload-Length", "2500")
		h := sv.head(t, url)
		wantHeader(t, h, "Upload-Length", "2500")
		wantHeader(t, h, "Upload-Offset", "2500")
		sv.wantContent(t, url, data)
	})

	t.Run("E39_DL6_deferred_upload_streamed_past_max_size_is_413", func(t *testing.T) {
		data := payload(maxSize+10_000, 39)
		url := sv.createDeferred(t)
		r := sv.patchChunked(t, url, 0, data)
		wantStatus(t, r, http.StatusRequestEntityTooLarge)
		if off := sv.offset(t, url); off > maxSize {
			t.Errorf("offset %d exceeds Tus-Max-Size %d", off, maxSize)
		}
		// With a Content-Length the excess is refused before reading.
		url = sv.createDeferred(t)
		wantStatus(t, sv.patch(t, url, 0, data), http.StatusRequestEntityTooLarge)
		sv.wantOffset(t, url, 0)
	})
}
