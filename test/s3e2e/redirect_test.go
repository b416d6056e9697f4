package s3e2e

import (
	"crypto/sha256"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tusgate/tusgate/test/e2e"
)

// TestDownloadRedirectsToAPresignedURL: with --download-redirect, GET of a
// finished upload answers 302 with a presigned URL of the object in the
// bucket (not a URL of the gateway), and that URL serves exactly the bytes.
func TestDownloadRedirectsToAPresignedURL(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.start(t, "--download-redirect", "5m")
	data := sourceData(partSize+123, 7)
	url := e2e.Create(t, p.URL, int64(len(data)), nil)
	if got := e2e.Patch(t, url, 0, data); got != int64(len(data)) {
		t.Fatalf("PATCH: Upload-Offset %d, want %d", got, len(data))
	}

	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("GET: status %d, want 302", resp.StatusCode)
	}
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, e.endpoint+"/"+e.bucket+"/"+e.key(url)) || !strings.Contains(loc, "X-Amz-Signature=") {
		t.Fatalf("Location %q is not a presigned URL of the object %s", loc, e.key(url))
	}

	obj, err := http.Get(loc)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Body.Close()
	if obj.StatusCode != http.StatusOK {
		t.Fatalf("GET presigned URL: status %d", obj.StatusCode)
	}
	h := sha256.New()
	if _, err := io.Copy(h, obj.Body); err != nil {
		t.Fatal(err)
	}
	if want := sha256.Sum256(data); string(h.Sum(nil)) != string(want[:]) {
		t.Fatal("the presigned URL served other bytes than were uploaded")
	}
}

// TestMissingBucketStopsStartUpWithAClearMessage: a --store naming a bucket
// that does not exist makes the binary exit non-zero, naming the bucket,
// instead of serving uploads that would fail later.
func TestMissingBucketStopsStartUpWithAClearMessage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.bucket = "tusgate-no-such-bucket"
	code, logs := e2e.Run(t, e2e.Options{Env: []string{"AWS_REGION=us-east-1"}},
		"--listen", "127.0.0.1:0", "--store", e.storeURL(), "--state", e.redisURL)
	if code == 0 {
		t.Fatalf("tusgate started with a missing bucket; output:\n%s", logs)
	}
	if !strings.Contains(logs, "tusgate-no-such-bucket") || !strings.Contains(logs, "--store") {
		t.Fatalf("the start-up error does not name the bucket and the setting:\n%s", logs)
	}
}

// TestPresignedAndProxiedDownloadsShareOneHeaderPolicy: the object's stored
// Content-Type and Content-Disposition, served by a presigned URL, equal what
// the gateway answers when it streams the download itself.
func TestPresignedAndProxiedDownloadsShareOneHeaderPolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	proxied := e.start(t)
	redirecting := e.start(t, "--download-redirect", "5m")
	e2e.CheckDownloadHeaders(t, proxied.URL, redirecting.URL)
}
