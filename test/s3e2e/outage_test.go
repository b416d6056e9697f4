package s3e2e

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/tusgate/tusgate/test/e2e"
	"github.com/tusgate/tusgate/test/testenv"
)

// TestMinIOOutageMidUploadResumesFromHeadOffset stops a private MinIO
// while a PATCH streams (after two parts were committed): that PATCH, a
// new PATCH and a creation get 503 with Retry-After, HEAD still answers
// from state with the committed offset and /readyz reports the outage.
// After MinIO comes back on the same data, the upload resumes from HEAD's
// offset and the object equals the source.
func TestMinIOOutageMidUploadResumesFromHeadOffset(t *testing.T) {
	t.Parallel()
	const size = 24 * MiB
	testenv.S3Credentials(t)
	m := testenv.StartMinIO(t)
	e := newEnvAt(t, m.Endpoint, m.Bucket)
	p := e.start(t)
	st := e.stateReader(t)
	data := sourceData(size, 9)

	url := e2e.Create(t, p.URL, size, nil)
	s := startStream(t, url, 0, data[:20*MiB])
	if err := s.feed(12 * MiB); err != nil {
		t.Fatalf("sending the body: %v", err)
	}
	committed := awaitCommitted(t, st, url, 2*partSize, s)
	m.Stop(t)

	// The rest of the body fills a part that cannot be stored.
	if err := s.finish(); err != nil {
		t.Logf("sending the rest of the body during the outage: %v", err)
	}
	r := s.wait(t)
	if r.err != nil {
		t.Fatalf("PATCH during the outage: %v (want a 503 response)", r.err)
	}
	check503(t, "the streaming PATCH", r)
	acked := parseInt(t, r.header.Get("Upload-Offset"))
	t.Logf("committed %d before the outage; the streaming PATCH got 503 acknowledging %d of %d sent", committed, acked, s.sent)
	if acked < committed || acked > s.sent {
		t.Fatalf("the streaming PATCH acknowledged %d, want between %d committed and %d sent", acked, committed, s.sent)
	}

	if got := e2e.Offset(t, url); got != acked {
		t.Fatalf("HEAD during the outage: Upload-Offset %d, want the acknowledged %d", got, acked)
	}
	check503(t, "a new PATCH", send(http.MethodPatch, url, patchHeader(acked), data[acked:acked+64<<10]))
	check503(t, "a creation", send(http.MethodPost, p.URL, http.Header{"Upload-Length": {"10"}}, nil))
	if res := send(http.MethodGet, readyURL(p), nil, nil); res.status != http.StatusServiceUnavailable {
		t.Errorf("/readyz during the outage: status %d, want 503", res.status)
	}

	m.Start(t)
	if res := send(http.MethodGet, readyURL(p), nil, nil); res.status != http.StatusOK {
		t.Errorf("/readyz after MinIO is back: status %d, want 200: %s", res.status, res.body)
	}
	offset := e2e.Offset(t, url)
	if offset != acked {
		t.Fatalf("HEAD after the outage: Upload-Offset %d, want %d", offset, acked)
	}
	if got := e2e.Patch(t, url, offset, data[offset:]); got != size {
		t.Fatalf("resuming PATCH: Upload-Offset %d, want %d", got, size)
	}
	e.checkContent(t, url, data)
}

// check503 expects a 503 that tells the client when to retry.
func check503(t *testing.T, what string, r tusResponse) {
	t.Helper()
	if r.err != nil {
		t.Fatalf("%s: %v", what, r.err)
	}
	if r.status != http.StatusServiceUnavailable {
		t.Fatalf("%s: status %d, want 503: %s", what, r.status, r.body)
	}
	if n, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || n <= 0 {
		t.Errorf("%s: Retry-After %q, want a positive number of seconds", what, r.header.Get("Retry-After"))
	}
	if r.header.Get("Tus-Resumable") != "1.0.0" {
		t.Errorf("%s: Tus-Resumable %q, want 1.0.0", what, r.header.Get("Tus-Resumable"))
	}
}

// readyURL is the replica's /readyz (the upload base path is /files/).
func readyURL(p *e2e.Proc) string { return "http://" + p.Addr + "/readyz" }
