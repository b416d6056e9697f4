package e2e

import (
	"net/http"
	"path/filepath"
	"testing"
)

// TestSIGKILLMidPatchResumes kills the server with SIGKILL in the middle of
// a PATCH, three times at different points of one 64 MiB upload, restarting
// on the same data directory each time. After every restart the offset must
// lie between the last acknowledged offset and what the client had sent,
// and finishing the upload from that offset must give the source's bytes
// exactly (so everything below the offset was intact).
func TestSIGKILLMidPatchResumes(t *testing.T) {
	const size = 64 * MiB
	p, url, files, data := startCrashRun(t, size, 1)

	// How much the server must have written before each kill, counted from
	// the start of the upload (the client keeps sending meanwhile). The
	// file backend fsyncs and commits every 16 MiB before it writes on, so
	// the first and last points lie past at least one commit, and the
	// middle one less than 16 MiB after the resume point (uncommitted
	// bytes on disk that must not be counted).
	killPoints := []int64{20 * MiB, 28 * MiB, 52 * MiB}
	offset := int64(0)
	progressed := false
	for i, killAt := range killPoints {
		sp := startSlowPatch(t, url, offset, data[offset:])
		sp.awaitStored(t, files, killAt)
		p.Kill()
		sp.abort()
		if r := sp.wait(t); r.err == nil {
			t.Fatalf("kill %d: the PATCH got a response (%d %q) although the server was killed before the body was sent", i+1, r.status, r.body)
		}
		sent := offset + sp.written.Load()

		p = p.Restart()
		res := Head(t, url)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("kill %d: HEAD after restart: status %d, want 200", i+1, res.StatusCode)
		}
		if got := headerInt(t, res, "Upload-Length"); got != size {
			t.Fatalf("kill %d: Upload-Length after restart = %d, want %d", i+1, got, size)
		}
		next := headerInt(t, res, "Upload-Offset")
		t.Logf("kill %d: server had written >= %d MiB, client sent %d bytes from %d; offset after restart %d",
			i+1, killAt/MiB, sent-offset, offset, next)
		if next < offset || next > sent {
			t.Fatalf("kill %d: offset after restart is %d, want between the acknowledged %d and the %d bytes sent", i+1, next, offset, sent)
		}
		progressed = progressed || next > offset
		offset = next
	}
	if !progressed {
		t.Fatal("no kill point left a committed offset above the previous one; the test did not exercise resuming mid-upload")
	}

	finishCrashRun(t, url, offset, data)
}

// startCrashRun starts a server on a new data directory (its files under
// files) and creates an upload of size bytes of seeded source data.
func startCrashRun(t *testing.T, size int, seed byte) (p *Proc, url, files string, data []byte) {
	t.Helper()
	dir := t.TempDir()
	p = Start(t, fileArgs(dir)...)
	return p, Create(t, p.URL, int64(size), nil), filepath.Join(dir, "files"), sourceData(size, seed)
}

// finishCrashRun sends the rest of data from offset and checks that the
// download is the source exactly (so everything below offset was intact).
func finishCrashRun(t *testing.T, url string, offset int64, data []byte) {
	t.Helper()
	if got := Patch(t, url, offset, data[offset:]); got != int64(len(data)) {
		t.Fatalf("final PATCH: Upload-Offset %d, want %d", got, len(data))
	}
	CheckDownload(t, url, data)
}

// TestSIGTERMMidPatchKeepsReceivedBytes stops the server gracefully while a
// PATCH is streaming: the PATCH must end with the offset of everything the
// server had received, the process must exit 0, and after a restart the
// upload resumes from exactly that offset to the source's bytes.
func TestSIGTERMMidPatchKeepsReceivedBytes(t *testing.T) {
	const size = 32 * MiB
	p, url, files, data := startCrashRun(t, size, 2)

	// Once the server has written 10 MiB to its file it has read at least
	// that much of the body, and a graceful stop must keep all of it.
	const received = 10 * MiB
	sp := startSlowPatch(t, url, 0, data)
	sp.awaitStored(t, files, received)
	// No write in flight when the server answers, so the client reads the
	// response instead of racing a reset connection.
	sp.stopFeeding()
	p.Term()
	r := sp.wait(t)
	if r.err != nil {
		t.Fatalf("PATCH during shutdown: %v (want a response with the stored offset)", r.err)
	}
	if r.status != http.StatusServiceUnavailable {
		t.Errorf("PATCH during shutdown: status %d, want 503", r.status)
	}
	if r.header.Get("Tus-Resumable") != "1.0.0" {
		t.Errorf("PATCH during shutdown: Tus-Resumable %q, want 1.0.0", r.header.Get("Tus-Resumable"))
	}
	acked := parseOffset(t, r.header.Get("Upload-Offset"))
	sent := sp.written.Load()
	t.Logf("client sent %d bytes; shutdown response acknowledged %d", sent, acked)
	if acked < received || acked > sent {
		t.Fatalf("shutdown response Upload-Offset %d, want between %d (seen written) and %d (sent)", acked, received, sent)
	}
	sp.abort()
	if code := p.Wait(); code != 0 {
		t.Fatalf("exit code after SIGTERM = %d, want 0", code)
	}

	p = p.Restart()
	if got := Offset(t, url); got != acked {
		t.Fatalf("offset after restart = %d, want the acknowledged %d", got, acked)
	}
	finishCrashRun(t, url, acked, data)
	// An idle server stops cleanly too.
	p.Term()
	if code := p.Wait(); code != 0 {
		t.Fatalf("exit code of the idle restarted server after SIGTERM = %d, want 0", code)
	}
}
