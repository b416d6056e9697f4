package protocol

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

func (s *suite) interruption(t *testing.T) {
	sv := s.start(t, defaultConfig())

	t.Run("E30_P7_interrupted_patch_keeps_the_bytes_received_and_resumes", func(t *testing.T) {
		data := payload(100_000, 30)
		url := sv.create(t, int64(len(data)))
		id := idOf(t, url)
		sv.patchOK(t, url, 0, data[:1000])

		// A raw client announces the whole rest but sends only part of it,
		// then hangs up. 100 Continue shows the handler is reading (it holds
		// the upload's lock by then).
		const sent = 40_000
		rc := sv.dial(t)
		rc.writeRequest(t, http.MethodPatch, pathOf(t, url), "Tus-Resumable: 1.0.0", "Content-Type: "+offsetOctet,
			"Upload-Offset: 1000", "Content-Length: "+strconv.Itoa(len(data)-1000), "Expect: 100-continue")
		wantStatus(t, rc.readResponse(t, http.MethodPatch), http.StatusContinue)
		rc.write(t, data[1000:1000+sent])
		_ = rc.c.Close()

		// Once the server has read everything and given up the lock, HEAD
		// must count every byte that reached it.
		sv.waitUnlocked(t, id)
		sv.wantOffset(t, url, 1000+sent)
		sv.patchOK(t, url, 1000+sent, data[1000+sent:])
		sv.wantContent(t, url, data)
	})

	t.Run("E30_takeover_of_a_dead_connection_reports_a_resumable_offset", func(t *testing.T) {
		// Same cut, but the HEAD comes at once, possibly while the server
		// still reads: whatever it reports must be where the resume fits.
		data := payload(50_000, 301)
		url := sv.create(t, int64(len(data)))
		rc := sv.dial(t)
		rc.writeRequest(t, http.MethodPatch, pathOf(t, url), "Tus-Resumable: 1.0.0", "Content-Type: "+offsetOctet,
			"Upload-Offset: 0", "Content-Length: "+strconv.Itoa(len(data)), "Expect: 100-continue")
		wantStatus(t, rc.readResponse(t, http.MethodPatch), http.StatusContinue)
		rc.write(t, data[:20_000])
		_ = rc.c.Close()
		off := sv.offset(t, url)
		if off > 20_000 {
			t.Fatalf("HEAD reports %d bytes, but only 20000 were sent", off)
		}
		sv.patchOK(t, url, off, data[off:])
		sv.wantContent(t, url, data)
	})

	t.Run("E31_P6_idle_body_times_out_and_what_arrived_is_stored", func(t *testing.T) {
		cfg := defaultConfig()
		cfg.IdleTimeout = 300 * time.Millisecond
		idle := s.start(t, cfg)
		data := payload(1000, 31)
		url := idle.create(t, int64(len(data)))
		st := idle.startPatch(t, url, 0)
		st.write(t, data[:100])
		// The body stays open: the server must end it by itself.
		r := st.wait(t)
		if r.status < 400 {
			t.Fatalf("stalled PATCH → %d, want an error status", r.status)
		}
		wantHeader(t, r, "Upload-Offset", "100")
		idle.wantOffset(t, url, 100)
		idle.patchOK(t, url, 100, data[100:])
		idle.wantContent(t, url, data)

		// The same with a Content-Length body on a raw connection that
		// stays open: the answer must not wait for the missing bytes.
		url = idle.create(t, int64(len(data)))
		rc := idle.dial(t)
		rc.writeRequest(t, http.MethodPatch, pathOf(t, url), "Tus-Resumable: 1.0.0", "Content-Type: "+offsetOctet,
			"Upload-Offset: 0", "Content-Length: "+strconv.Itoa(len(data)))
		rc.write(t, data[:250])
		r = rc.readResponse(t, http.MethodPatch)
		if r.status < 400 {
			t.Fatalf("stalled PATCH → %d, want an error status", r.status)
		}
		wantHeader(t, r, "Upload-Offset", "250")
		idle.wantOffset(t, url, 250)
	})
}
