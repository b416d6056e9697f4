package hooks_test

import (
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/tusgate/tusgate/hooks"
	"github.com/tusgate/tusgate/test/e2e"
	"github.com/tusgate/tusgate/test/testenv"
)

// A post-finish owed by a replica that dies is delivered by another: the
// event waits in Redis, and the dead replica's claim lapses.
func TestPostFinishOwedByAKilledReplicaArrives(t *testing.T) {
	rs := testenv.StartRedis(t)
	inFlight := make(chan struct{})
	release := make(chan struct{})
	rc := newReceiver(t, func(req hooks.Request, attempt int) (int, hooks.Response) {
		if req.Type == hooks.PostFinish && attempt == 1 {
			close(inFlight)
			<-release // the replica delivering it dies meanwhile
			return http.StatusServiceUnavailable, hooks.Response{}
		}
		return http.StatusOK, hooks.Response{}
	})
	// Registered after the receiver, so it runs before the receiver's
	// server waits for its handlers.
	t.Cleanup(func() { close(release) })
	files := t.TempDir()
	args := []string{"--store", "file://" + filepath.Join(files, "data"), "--state", rs.URL,
		"--hooks-http", rc.url, "--hooks-enabled-events", "post-finish", "--hooks-timeout", "2s"}
	a := e2e.Start(t, args...)
	url := e2e.Create(t, a.URL, 4, nil)
	e2e.Patch(t, url, 0, []byte("data"))
	select {
	case <-inFlight:
	case <-time.After(30 * time.Second):
		t.Fatal("post-finish never reached the receiver")
	}
	a.Kill()
	killed := time.Now()
	e2e.Start(t, args...) // replica B, same Redis
	got := rc.await(t, hooks.PostFinish, idOf(url), 1)
	if got[0].Event.Upload.Offset != 4 || got[0].Event.Upload.Size != 4 {
		t.Fatalf("post-finish after the takeover: %+v", got[0].Event.Upload)
	}
	t.Logf("post-finish delivered by the surviving replica %s after the SIGKILL (claim hide time 9s)", time.Since(killed).Round(100*time.Millisecond))
}
