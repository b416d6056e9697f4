package ops

import (
	"net/http"
	"testing"

	"github.com/tusgate/tusgate/test/e2e"
)

// TestSIGTERMDrainsThenAnotherReplicaResumes: SIGTERM to replica A during a
// PATCH. /readyz must fail while the PATCH is still open (the listener keeps
// serving through --drain-delay); then the PATCH stores what it received
// and answers with that offset, A exits 0, and replica B, whose lock wait is
// capped at one second and whose lease TTL is 30 s, accepts the next PATCH:
// the lock was released, not left to lapse.
func TestSIGTERMDrainsThenAnotherReplicaResumes(t *testing.T) {
	ps := replicas(t, 2, nil,
		[]string{"--drain-delay", "3s", "--shutdown-timeout", "30s"},
		[]string{"--lock-timeout", "1s"})
	a, b := ps[0], ps[1]
	aMetrics := origin(a) + "/metrics"

	const size = 3 * MiB
	body := data(size)
	u := e2e.Create(t, a.URL, size, nil)
	before := e2e.Scrape(t, aMetrics).Get("tusgate_request_body_bytes_total")
	sp := e2e.StartStream(t, u, 0, body[:MiB])
	awaitBodyBytes(t, aMetrics, before+MiB)

	if code := status(t, origin(a)+"/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz before SIGTERM: %d, want 200", code)
	}
	a.Term()
	e2e.Eventually(t, wait, "/readyz on A to fail after SIGTERM", func() bool {
		return status(t, origin(a)+"/readyz") == http.StatusServiceUnavailable
	})
	if sp.Ended() {
		t.Fatal("the PATCH ended before /readyz failed: readiness must fail first")
	}

	r := sp.Wait(t, wait)
	if r.Err != nil {
		t.Fatalf("the PATCH in flight at SIGTERM got no response: %v", r.Err)
	}
	if r.Status < 400 {
		t.Fatalf("the PATCH cut short by shutdown answered %d, want an error status with Upload-Offset", r.Status)
	}
	got := offsetOf(t, r.Header)
	if got != MiB {
		t.Fatalf("the PATCH cut short by shutdown acknowledged %d bytes, want the %d it received", got, MiB)
	}
	if code := a.Wait(); code != 0 {
		t.Fatalf("A exited with %d after SIGTERM, want 0", code)
	}

	if off := e2e.Patch(t, at(b, u), got, body[got:]); off != size {
		t.Fatalf("PATCH on B after A's shutdown: offset %d, want %d", off, size)
	}
	sum, n := e2e.DownloadSHA256(t, at(b, u))
	if n != size || sum != sha(body) {
		t.Fatalf("the finished upload has %d bytes and differs from what was sent", n)
	}
}

func status(t *testing.T, url string) int {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	res.Body.Close()
	return res.StatusCode
}
