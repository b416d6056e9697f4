package replica

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/tusgate/tusgate/test/e2e"
	"github.com/tusgate/tusgate/test/testenv"
)

// TestUnreachableRedisFailsFast cuts two replicas off from their (private)
// Redis through a proxy that keeps connections open but drops every byte,
// as in a network partition, before the requests start. Every request that
// needs state must answer 503 with Tus-Resumable well before a generous
// bound instead of hanging, /readyz must be 503, OPTIONS (no state) still
// works, and nothing is corrupted: no request changed the upload or left a
// file behind, and once Redis is reachable again the upload resumes at its
// old offset and finishes to the source's bytes.
func TestUnreachableRedisFailsFast(t *testing.T) {
	rs := testenv.StartRedis(t)
	px := startProxy(t, rs.Addr)
	c := startCluster(t, 2, "redis://"+px.Addr()+"/0")
	const size = 4 * MiB
	data := source(size, 6)
	u := e2e.Create(t, c.nodes[0].URL, size, nil)
	const before = MiB
	e2e.Patch(t, c.at(1, u), 0, data[:before])
	filesBefore := c.dataFiles(t)

	px.blackhole(true)
	// No response within this bound would be a hang; the client's own
	// timeouts should answer in a few seconds.
	const bound = 10 * time.Second
	requests := []struct {
		name   string
		method string
		url    string
		header http.Header
		body   []byte
	}{
		{"HEAD", http.MethodHead, c.at(0, u), nil, nil},
		{"PATCH", http.MethodPatch, c.at(1, u), patchHeader(before), data[before : before+32<<10]},
		{"POST", http.MethodPost, c.nodes[0].URL, http.Header{"Upload-Length": {"100"}}, nil},
		{"DELETE", http.MethodDelete, c.at(1, u), nil, nil},
		{"GET", http.MethodGet, c.at(0, u), nil, nil},
		{"GET /readyz", http.MethodGet, c.origin(1) + "/readyz", nil, nil},
	}
	// All at once: each starts while Redis is already unreachable.
	replies := make([]reply, len(requests))
	errs := make([]error, len(requests))
	var wg sync.WaitGroup
	for i, rq := range requests {
		wg.Go(func() { replies[i], errs[i] = try(rq.method, rq.url, rq.header, rq.body, bound) })
	}
	wg.Wait()
	for i, rq := range requests {
		if errs[i] != nil {
			t.Errorf("%s with Redis unreachable: %v", rq.name, errs[i])
			continue
		}
		r := replies[i]
		t.Logf("%s with Redis unreachable: %d after %s", rq.name, r.status, r.took)
		if r.status != http.StatusServiceUnavailable {
			t.Errorf("%s with Redis unreachable: status %d, want 503 (body %q)", rq.name, r.status, r.body)
		}
		if r.header.Get("Tus-Resumable") != "1.0.0" {
			t.Errorf("%s with Redis unreachable: Tus-Resumable %q, want 1.0.0", rq.name, r.header.Get("Tus-Resumable"))
		}
	}
	if r := send(t, http.MethodOptions, c.nodes[0].URL, nil, nil, bound); r.status != http.StatusOK && r.status != http.StatusNoContent {
		t.Errorf("OPTIONS with Redis unreachable: status %d, want 200 or 204", r.status)
	}

	px.blackhole(false)
	healed := time.Now()
	for i := range c.nodes {
		e2e.Eventually(t, eventDeadline, "/readyz on the replica to turn 200", func() bool {
			return send(t, http.MethodGet, c.origin(i)+"/readyz", nil, nil, bound).status == http.StatusOK
		})
	}
	t.Logf("both replicas ready %s after Redis became reachable", time.Since(healed))
	if got := c.dataFiles(t); len(got) != len(filesBefore) {
		t.Errorf("the shared directory holds %v, want only %v: a refused request left a file behind", got, filesBefore)
	}
	for i := range c.nodes {
		if got := e2e.Offset(t, c.at(i, u)); got != before {
			t.Fatalf("HEAD on replica %d after Redis is back: offset %d, want %d", i, got, before)
		}
	}
	if got := e2e.Patch(t, c.at(0, u), before, data[before:]); got != size {
		t.Fatalf("PATCH after Redis is back: Upload-Offset %d, want %d", got, size)
	}
	checkContent(t, c.at(1, u), data)
}
