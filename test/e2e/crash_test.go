package e2e

import (
	"crypto/sha256"
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
	data := sourceData(size, 1)
	want := sha256.Sum256(data)

	dir := t.TempDir()
	files := filepath.Join(dir, "files")
	p := Start(t, fileArgs(dir)...)
	url := Create(t, p.URL, size, nil)

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

	if got := Patch(t, url, offset, data[offset:]); got != size {
		t.Fatalf("final PATCH: Upload-Offset %d, want %d", got, size)
	}
	sum, n := DownloadSHA256(t, url)
	if n != size || sum != want {
		t.Fatalf("downloaded %d bytes with SHA-256 %x, want %d bytes with %x", n, sum, size, want)
	}
}

// TestSIGTERMMidPatchKeepsReceivedBytes stops the server gracefully while a
// PATCH is streaming: the PATCH must end with the offset of everything the
// server had received, the process must exit 0, and after a restart the
// upload resumes from exactly that offset to the source's bytes.
func TestSIGTERMMidPatchKeepsReceivedBytes(t *testing.T) {
	const size = 32 * MiB
	data := sourceData(size, 2)
	want := sha256.Sum256(data)

	dir := t.TempDir()
	files := filepath.Join(dir, "files")
	p := Start(t, fileArgs(dir)...)
	url := Create(t, p.URL, size, nil)

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
	if got := Patch(t, url, acked, data[acked:]); got != size {
		t.Fatalf("final PATCH: Upload-Offset %d, want %d", got, size)
	}
	sum, n := DownloadSHA256(t, url)
	if n != size || sum != want {
		t.Fatalf("downloaded %d bytes with SHA-256 %x, want %d bytes with %x", n, sum, size, want)
	}
	// An idle server stops cleanly too.
	p.Term()
	if code := p.Wait(); code != 0 {
		t.Fatalf("exit code of the idle restarted server after SIGTERM = %d, want 0", code)
	}
}
