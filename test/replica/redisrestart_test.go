package replica

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tusgate/tusgate/test/e2e"
	"github.com/tusgate/tusgate/test/testenv"
)

// TestRedisRestartWithAOFLosesNoUpload stops a private Redis (AOF on,
// appendfsync always) after half of an upload went through two replicas.
// While it is down every request touching state gets a 503 with
// Tus-Resumable and a clear message, and /readyz is 503. Once Redis is
// started again on the same data, /readyz turns 200 without touching the
// replicas, the HEAD shows the offset from before, a takeover across
// replicas works again, and the upload finishes to the source's bytes.
func TestRedisRestartWithAOFLosesNoUpload(t *testing.T) {
	rs := testenv.StartRedis(t)
	c := startCluster(t, 2, rs.URL)
	const size = 8 * MiB
	data := source(size, 5)
	u := e2e.Create(t, c.nodes[0].URL, size, nil)
	half := int64(size / 2)
	e2e.Patch(t, c.at(0, u), 0, data[:MiB])
	e2e.Patch(t, c.at(1, u), MiB, data[MiB:half])

	rs.Stop(t)
	const bound = 10 * time.Second // a hang, not a slow answer
	unavailable := func(what string, r reply) {
		t.Helper()
		t.Logf("%s while Redis is down: %d %q after %s", what, r.status, strings.TrimSpace(r.body), r.took)
		if r.status != http.StatusServiceUnavailable {
			t.Errorf("%s while Redis is down: status %d, want 503", what, r.status)
		}
		if r.header.Get("Tus-Resumable") != "1.0.0" {
			t.Errorf("%s while Redis is down: Tus-Resumable %q, want 1.0.0", what, r.header.Get("Tus-Resumable"))
		}
	}
	unavailable("HEAD", send(t, http.MethodHead, c.at(1, u), nil, nil, bound))
	patch := send(t, http.MethodPatch, c.at(0, u), patchHeader(half), data[half:half+64<<10], bound)
	unavailable("PATCH", patch)
	if !strings.Contains(patch.body, "state store unavailable") {
		t.Errorf("PATCH while Redis is down: body %q does not say the state store is unavailable", patch.body)
	}
	unavailable("POST", send(t, http.MethodPost, c.nodes[1].URL, http.Header{"Upload-Length": {"10"}}, nil, bound))
	unavailable("GET", send(t, http.MethodGet, c.at(1, u), nil, nil, bound))
	for i := range c.nodes {
		if r := send(t, http.MethodGet, c.origin(i)+"/readyz", nil, nil, bound); r.status != http.StatusServiceUnavailable {
			t.Errorf("/readyz on replica %d while Redis is down: %d, want 503", i, r.status)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	rs.Start(t)
	restarted := time.Now()
	for i := range c.nodes {
		e2e.Eventually(t, eventDeadline, "/readyz on the replica to turn 200", func() bool {
			return send(t, http.MethodGet, c.origin(i)+"/readyz", nil, nil, bound).status == http.StatusOK
		})
	}
	t.Logf("both replicas ready %s after Redis came back", time.Since(restarted))
	for i := range c.nodes {
		if got := e2e.Offset(t, c.at(i, u)); got != half {
			t.Fatalf("HEAD on replica %d after the Redis restart: offset %d, want %d", i, got, half)
		}
	}
	// Release requests travel by pub/sub again: a HEAD on replica 1 takes
	// over a stalled PATCH on replica 0 instead of waiting for the lock
	// timeout.
	const step = 2 * MiB
	sp := startStream(t, c.at(0, u), half, data[half:], step, time.Millisecond)
	sp.awaitStored(t, c.dataFile(u), half+step)
	head := send(t, http.MethodHead, c.at(1, u), nil, nil, lockTimeout)
	t.Logf("takeover after the Redis restart: HEAD %d after %s", head.status, head.took)
	if head.status != http.StatusOK || uploadOffset(t, head.header) != half+step {
		t.Fatalf("HEAD on replica 1 over a stalled PATCH after the restart: %d, offset %q, want 200 and %d",
			head.status, head.header.Get("Upload-Offset"), half+step)
	}
	if r := sp.wait(t); r.err != nil || r.status != http.StatusLocked {
		t.Fatalf("the stalled PATCH: %s, want 423", describe(r))
	}
	if got := e2e.Patch(t, c.at(1, u), half+step, data[half+step:]); got != size {
		t.Fatalf("PATCH after the Redis restart: Upload-Offset %d, want %d", got, size)
	}
	checkContent(t, c.at(0, u), data)
	// The POST refused while Redis was down left no file behind.
	if files := c.dataFiles(t); len(files) != 1 {
		t.Errorf("the shared directory holds %d files, want only the upload's: %v", len(files), files)
	}
}
