package ops

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tusgate/tusgate/test/e2e"
	"github.com/tusgate/tusgate/test/testenv"
)

// TestBufferPoolWaitsAreCounted exhausts a one-part memory budget on S3:
// upload X's PATCH stalls after 1 MiB and keeps its 5 MiB part buffer, so
// upload Y's PATCH must wait for one. /metrics shows Y waiting, and once
// X's body ends (its bytes stored as a tail, its buffer released) Y
// finishes and tusgate_buffer_pool_waits_total has moved.
func TestBufferPoolWaitsAreCounted(t *testing.T) {
	endpoint, bucket := testenv.S3Endpoint(t)
	redis := testenv.StartRedis(t)
	q := url.Values{}
	q.Set("endpoint", endpoint)
	q.Set("path_style", "true")
	q.Set("min_part_size", "5MiB")
	q.Set("part_size", "5MiB")
	store := fmt.Sprintf("s3://%s/ops/%s/?%s", bucket, strings.ToLower(rand.Text()[:10]), q.Encode())
	p := e2e.StartWith(t, e2e.Options{Env: []string{"AWS_REGION=us-east-1"}},
		"--state", redis.URL, "--store", store, "--memory-budget", "5MiB")
	m := origin(p) + "/metrics"
	before := e2e.Scrape(t, m)
	if b := before.Get("tusgate_buffer_pool_budget_bytes"); b != 5*MiB {
		t.Fatalf("tusgate_buffer_pool_budget_bytes = %v, want %d", b, 5*MiB)
	}

	const size = 6 * MiB
	// Different bytes, so a buffer handed to the wrong upload shows.
	bodyX, bodyY := testenv.Source(size, 1), testenv.Source(size, 2)
	x, y := e2e.Create(t, p.URL, size, nil), e2e.Create(t, p.URL, size, nil)
	sx := e2e.StartStream(t, x, 0, bodyX[:MiB])
	awaitBodyBytes(t, m, before.Get("tusgate_request_body_bytes_total")+MiB)
	if v := e2e.Scrape(t, m).Get("tusgate_buffer_pool_in_use_bytes"); v != 5*MiB {
		t.Fatalf("with X stalled mid-part, tusgate_buffer_pool_in_use_bytes = %v, want the whole budget %d", v, 5*MiB)
	}

	sy := e2e.StartStream(t, y, 0, bodyY)
	e2e.Eventually(t, wait, "Y's PATCH to wait for a buffer", func() bool {
		return e2e.Scrape(t, m).Get("tusgate_buffer_pool_waiting") >= 1
	})
	if sy.Ended() {
		t.Fatal("Y's PATCH ended while the budget was exhausted")
	}
	sx.End() // X's body ends: 1 MiB is stored, its buffer comes back
	if r := sx.Wait(t, wait); r.Err != nil || r.Status != http.StatusNoContent || offsetOf(t, r.Header) != MiB {
		t.Fatalf("X's PATCH: status %d err %v, want 204 at %d", r.Status, r.Err, MiB)
	}
	sy.End()
	if r := sy.Wait(t, wait); r.Err != nil || r.Status != http.StatusNoContent || offsetOf(t, r.Header) != size {
		t.Fatalf("Y's PATCH: status %d err %v, want 204 at %d", r.Status, r.Err, size)
	}
	after := e2e.Scrape(t, m)
	if d := after.Get("tusgate_buffer_pool_waits_total") - before.Get("tusgate_buffer_pool_waits_total"); d < 1 {
		t.Errorf("tusgate_buffer_pool_waits_total moved by %v, want at least 1", d)
	}
	if v := after.Get("tusgate_buffer_pool_waiting"); v != 0 {
		t.Errorf("tusgate_buffer_pool_waiting = %v with no request in flight, want 0", v)
	}
	if got := e2e.Patch(t, x, MiB, bodyX[MiB:]); got != size {
		t.Fatalf("PATCH X from %d: offset %d, want %d", MiB, got, size)
	}
	for _, u := range []struct {
		url  string
		body []byte
	}{{x, bodyX}, {y, bodyY}} {
		if sum, n := e2e.DownloadSHA256(t, u.url); n != size || sum != sha(u.body) {
			t.Fatalf("%s: %d bytes stored, differing from what was sent", u.url, n)
		}
	}
}
