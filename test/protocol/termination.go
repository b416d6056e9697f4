package protocol

import (
	"net/http"
	"testing"
)

func (s *suite) termination(t *testing.T) {
	sv := s.start(t, defaultConfig())

	gone := func(t *testing.T, url string) {
		t.Helper()
		for _, r := range []*resp{
			sv.head(t, url),
			sv.patch(t, url, 0, []byte("x")),
			sv.do(t, http.MethodDelete, url, tus(), nil),
			sv.do(t, http.MethodGet, url, nil, nil),
		} {
			if r.status != http.StatusNotFound && r.status != http.StatusGone {
				t.Errorf("%s of a terminated upload → %d, want 404 or 410", r.method, r.status)
			}
			wantNoHeader(t, r, "Upload-Offset")
		}
	}

	t.Run("E56_T2_T3_delete_unfinished_is_204_then_everything_is_404", func(t *testing.T) {
		url := sv.create(t, 10)
		sv.patchOK(t, url, 0, []byte("abc"))
		r := sv.do(t, http.MethodDelete, url, tus(), nil)
		wantStatus(t, r, http.StatusNoContent)
		gone(t, url)
	})

	t.Run("E57_T2_delete_completed_upload_is_204", func(t *testing.T) {
		url := sv.upload(t, []byte("complete"))
		wantStatus(t, sv.do(t, http.MethodDelete, url, tus(), nil), http.StatusNoContent)
		gone(t, url)
	})

	t.Run("E58_T4_delete_unknown_is_404", func(t *testing.T) {
		wantStatus(t, sv.do(t, http.MethodDelete, basePath+"0123456789abcdef0123456789abcdef", tus(), nil), http.StatusNotFound)
	})

	t.Run("T2_delete_deferred_and_partial_uploads_is_204", func(t *testing.T) {
		for _, url := range []string{sv.createDeferred(t), sv.create(t, 5, "Upload-Concat", "partial")} {
			wantStatus(t, sv.do(t, http.MethodDelete, url, tus(), nil), http.StatusNoContent)
			gone(t, url)
		}
	})

	t.Run("E59_T4_delete_while_patch_streams_is_204_promptly_and_nothing_is_resurrected", func(t *testing.T) {
		data := payload(20_000, 59)
		url := sv.create(t, int64(len(data)))
		st := sv.startPatch(t, url, 0)
		st.write(t, data[:5000])
		sv.waitLocked(t, idOf(t, url))

		// The DELETE gets the lock from the streaming PATCH, whose body
		// is still open: the PATCH must answer before the client stops.
		wantStatus(t, sv.do(t, http.MethodDelete, url, tus(), nil), http.StatusNoContent)
		r := st.wait(t)
		if r.status < 400 {
			t.Errorf("the interrupted PATCH → %d, want an error", r.status)
		}
		// The client keeps sending and then finishes its body: nothing of
		// it may bring the upload back.
		_, _ = st.w.Write(data[5000:6000])
		_ = st.w.Close()
		gone(t, url)
		// A fresh PATCH cannot recreate it either.
		wantStatus(t, sv.patch(t, url, 0, data), http.StatusNotFound)
		gone(t, url)
	})
}
