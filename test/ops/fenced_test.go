package ops

import (
	"net/http"
	"syscall"
	"testing"

	"github.com/tusgate/tusgate/test/e2e"
)

// TestFencedCommitAndBrokenTakeoverMoveTheirCounters stops replica A with
// SIGSTOP while its PATCH holds bytes it has not committed yet (64 KiB,
// far below the file backend's commit points). HEAD on B finds A silent,
// breaks A's lease once A's liveness key has expired (the 30 s lease is
// still in Redis, so nothing else could free it) and answers with the
// committed offset, 0. After SIGCONT, A learns that its lease is gone,
// stops the body and tries to commit what it holds: the store refuses the
// stale token. Scraped before and after: B counts the release request it
// sent and a "broken" takeover; A counts the fenced commit and the lost
// lease; and A's bytes are not acknowledged anywhere.
func TestFencedCommitAndBrokenTakeoverMoveTheirCounters(t *testing.T) {
	ps := replicas(t, 2, nil)
	a, b := ps[0], ps[1]
	aMetrics, bMetrics := origin(a)+"/metrics", origin(b)+"/metrics"
	beforeA, beforeB := e2e.Scrape(t, aMetrics), e2e.Scrape(t, bMetrics)

	const size, held = 4 * MiB, 64 << 10
	body := data(size)
	u := e2e.Create(t, b.URL, size, nil)
	sp := e2e.StartStream(t, at(a, u), 0, body[:held])
	awaitBodyBytes(t, aMetrics, beforeA.Get("tusgate_request_body_bytes_total")+held)
	a.Signal(syscall.SIGSTOP)
	t.Cleanup(func() { a.Signal(syscall.SIGCONT) }) // so it can be killed cleanly

	head := e2e.Head(t, at(b, u))
	head.Body.Close()
	if head.StatusCode != http.StatusOK {
		t.Fatalf("HEAD on B while A is stopped: status %d, want 200", head.StatusCode)
	}
	if got := offsetOf(t, head.Header); got != 0 {
		t.Fatalf("HEAD on B while A is stopped: offset %d, want 0 (A had committed nothing)", got)
	}
	a.Signal(syscall.SIGCONT)
	r := sp.Wait(t, wait)
	if r.Err == nil && r.Status != http.StatusConflict && r.Status < 500 {
		t.Fatalf("A's fenced PATCH ended with %d, want 409 or 5xx", r.Status)
	}
	afterA, afterB := e2e.Scrape(t, aMetrics), e2e.Scrape(t, bMetrics)

	for _, m := range []struct {
		before, after e2e.Metrics
		key           string
		want          float64
	}{
		{beforeA, afterA, "tusgate_state_fenced_commits_total", 1},
		{beforeA, afterA, "tusgate_lock_leases_lost_total", 1},
		{beforeA, afterA, "tusgate_received_bytes_total", 0},
		{beforeB, afterB, "tusgate_lock_release_requests_sent_total", 1},
		{beforeB, afterB, `tusgate_lock_takeovers_total{how="broken"}`, 1},
		{beforeB, afterB, `tusgate_lock_takeovers_total{how="released"}`, 0},
	} {
		if d := m.after.Get(m.key) - m.before.Get(m.key); d != m.want {
			t.Errorf("%s moved by %v, want %v", m.key, d, m.want)
		}
	}
	if got := e2e.Offset(t, at(b, u)); got != 0 {
		t.Fatalf("HEAD on B after A resumed: offset %d, want 0: A's fenced commit must not apply", got)
	}
	if got := e2e.Patch(t, at(b, u), 0, body); got != size {
		t.Fatalf("PATCH on B: offset %d, want %d", got, size)
	}
}
