package hooks_test

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tusgate/tusgate/hooks"
	"github.com/tusgate/tusgate/test/e2e"
	"github.com/tusgate/tusgate/test/testenv"
)

const mib = 1 << 20

// s3Store is a store URL on the test MinIO with its own prefix and the
// smallest parts, and the environment a replica needs for it.
func s3Store(t *testing.T) (string, e2e.Options) {
	endpoint, bucket := testenv.S3Endpoint(t)
	prefix := "hooks-" + strings.ToLower(rand.Text()[:10])
	store := fmt.Sprintf("s3://%s/%s/?endpoint=%s&path_style=true&min_part_size=5MiB&part_size=5MiB",
		bucket, prefix, url.QueryEscape(endpoint))
	var env []string
	if os.Getenv("AWS_REGION") == "" {
		env = append(env, "AWS_REGION=us-east-1")
	}
	return store, e2e.Options{Env: env}
}

// StopUpload from a post-receive answer stops a PATCH that streams into
// replica A although replica B delivered the event: A queues post-receive
// after its first part, only B can deliver it (A's receiver URL always
// fails), B marks the upload stopped and asks the holder to release, A
// stores what arrived and answers tusd's 400. Later PATCHes are refused on
// both replicas; HEAD still reports the kept bytes.
func TestStopUploadReachesTheReplicaThatHoldsTheUpload(t *testing.T) {
	rs := testenv.StartRedis(t)
	store, opts := s3Store(t)
	rc := newReceiver(t, func(req hooks.Request, _ int) (int, hooks.Response) {
		return http.StatusOK, hooks.Response{StopUpload: req.Type == hooks.PostReceive}
	})
	down := newReceiver(t, func(hooks.Request, int) (int, hooks.Response) {
		return http.StatusServiceUnavailable, hooks.Response{}
	})
	common := []string{"--store", store, "--state", rs.URL, "--hooks-enabled-events", "post-receive"}
	a := e2e.StartWith(t, opts, append(common, "--hooks-http", down.url)...)
	b := e2e.StartWith(t, opts, append(common, "--hooks-http", rc.url)...)

	const length = 12 * mib
	data := testenv.Source(length, 10)
	onA := e2e.Create(t, a.URL, length, nil)
	onB := strings.Replace(onA, a.Addr, b.Addr, 1)
	id := idOf(onA)
	// One part and a bit, then the client stalls with the body open.
	s := e2e.StartStream(t, onA, 0, data[:6*mib])
	res := s.Wait(t, 2*time.Minute)
	if res.Err != nil {
		t.Fatalf("stopped PATCH: %v", res.Err)
	}
	if res.Status != http.StatusBadRequest || strings.TrimSpace(res.Body) != "upload has been stopped by server" {
		t.Fatalf("stopped PATCH → %d %q, want 400 \"upload has been stopped by server\"", res.Status, res.Body)
	}
	got := rc.events(hooks.PostReceive, id)
	if len(got) == 0 || got[0].Event.Upload.Offset < 5*mib || got[0].Event.HTTPRequest.Method != http.MethodPatch {
		t.Fatalf("post-receive delivered by B: %+v, want one after the first 5 MiB part of the PATCH", got)
	}
	if st := got[0].Event.Upload.Storage; st["Type"] != "s3store" || st["Bucket"] == "" || !strings.HasSuffix(st["Key"], "/"+id) || !strings.HasPrefix(store, "s3://"+st["Bucket"]+"/") {
		t.Fatalf("post-receive Storage %v, want tusd's s3store keys naming %s/…/%s", st, store, id)
	}
	kept, err := strconv.ParseInt(res.Header.Get("Upload-Offset"), 10, 64)
	if err != nil || kept < 5*mib || kept > 6*mib {
		t.Fatalf("stopped PATCH's Upload-Offset %q, want what arrived: 5 to 6 MiB", res.Header.Get("Upload-Offset"))
	}
	for _, u := range []string{onA, onB} {
		if off := e2e.Offset(t, u); off != kept {
			t.Fatalf("HEAD %s: offset %d, want the %d bytes kept", u, off, kept)
		}
		res, body := do(t, http.MethodPatch, u, http.Header{"Tus-Resumable": {"1.0.0"}, "Content-Type": {"application/offset+octet-stream"},
			"Upload-Offset": {strconv.FormatInt(kept, 10)}}, strings.NewReader("more"))
		if res.StatusCode != http.StatusBadRequest || strings.TrimSpace(body) != "upload has been stopped by server" {
			t.Fatalf("PATCH of the stopped upload on %s → %d %q, want 400", u, res.StatusCode, body)
		}
	}
	if off := e2e.Offset(t, onB); off != kept {
		t.Fatalf("refused PATCHes moved the offset to %d", off)
	}
	t.Logf("stopped at %d bytes; A's own deliveries of post-receive failed %d times", kept, down.attempts(hooks.PostReceive, id))
}
