package ietf

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/http/httputil"
	"net/textproto"
	"net/url"
	"os"
	"os/exec"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/tusgate/tusgate/test/e2e"
	"github.com/tusgate/tusgate/test/testenv"
)

// cluster is two replicas sharing a private Redis and a prefix of the
// shared bucket, emptied when the test ends.
type cluster struct {
	redis          *testenv.RedisServer
	replicas       []*e2e.Proc
	s3             *s3.Client
	bucket, prefix string
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	endpoint, bucket := testenv.S3Endpoint(t)
	c := &cluster{redis: testenv.StartRedis(t), s3: testenv.S3Client(t, endpoint), bucket: bucket,
		prefix: "ietf/" + strings.ToLower(rand.Text()[:10]) + "/"}
	// 5 MiB parts, so a test knows when a part of a body is stored.
	q := url.Values{"endpoint": {endpoint}, "path_style": {"true"}, "min_part_size": {"5MiB"}, "part_size": {"5MiB"}}
	store := fmt.Sprintf("s3://%s/%s?%s", bucket, c.prefix, q.Encode())
	opts := e2e.Options{Env: []string{"AWS_REGION=us-east-1"}}
	for range 2 {
		c.replicas = append(c.replicas, e2e.StartWith(t, opts, "--state", c.redis.URL, "--store", store, "--lock-timeout", "30s"))
	}
	t.Cleanup(func() { removePrefix(c.s3, c.bucket, c.prefix) })
	return c
}

// roundRobin is a reverse proxy that sends each request to the next
// replica. The Host header is kept, so upload URLs name the proxy.
type roundRobin struct {
	*httptest.Server
	next atomic.Uint64
	hits []atomic.Int64
}

func startRoundRobin(t *testing.T, replicas []*e2e.Proc) *roundRobin {
	t.Helper()
	targets := make([]*url.URL, len(replicas))
	for i, p := range replicas {
		u, err := url.Parse(p.URL)
		if err != nil {
			t.Fatal(err)
		}
		targets[i] = &url.URL{Scheme: u.Scheme, Host: u.Host}
	}
	rr := &roundRobin{hits: make([]atomic.Int64, len(replicas))}
	rr.Server = httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		i := int(rr.next.Add(1) % uint64(len(targets)))
		rr.hits[i].Add(1)
		r.SetURL(targets[i])
		r.Out.Host = r.In.Host
	}})
	t.Cleanup(rr.Close)
	return rr
}

var uploadedRe = regexp.MustCompile(`(?m)UPLOADED (\S+) (\S+) ([0-9a-f]{64}) ([0-9]{1,12})$`)

// TestTusJSClientDraftThroughTwoReplicas runs test/js/ietf-client.test.js:
// tus-js-client uploads with 'ietf-draft-03' and 'ietf-draft-05', each
// aborted after its first chunk and resumed, through a round-robin proxy
// over two replicas sharing Redis and a bucket. The objects in the bucket
// must be the sources, byte for byte, with no multipart upload left over.
func TestTusJSClientDraftThroughTwoReplicas(t *testing.T) {
	node, dir := testenv.NodeProject(t, "../js")
	c := startCluster(t)
	rr := startRoundRobin(t, c.replicas)
	s3c, bucket, prefix := c.s3, c.bucket, c.prefix
	base := rr.URL + "/files/"

	checkAnnouncedThroughProxy(t, base)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=tap", "ietf-client.test.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TUSGATE_URL="+base)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test failed: %v\n%s", err, out)
	}
	t.Logf("node --test output:\n%s", out)
	if pass := testenv.TAPCount(out, "pass"); pass != 3 {
		t.Errorf("node --test: %d tests passed, want 3", pass)
	}
	if skip := testenv.TAPCount(out, "skipped"); skip != 0 {
		t.Errorf("node --test: %d tests skipped, want 0", skip)
	}
	for i := range rr.hits {
		if rr.hits[i].Load() == 0 {
			t.Errorf("replica %d served no request; the proxy must spread them", i)
		}
	}

	uploads := uploadedRe.FindAllSubmatch(out, -1)
	if len(uploads) != 2 {
		t.Fatalf("%d uploads reported, want one per protocol", len(uploads))
	}
	for _, m := range uploads {
		protocol, id, want := string(m[1]), path.Base(string(m[2])), string(m[3])
		size, _ := strconv.ParseInt(string(m[4]), 10, 64)
		got, n := objectSHA256(t, s3c, bucket, prefix+id)
		if got != want || n != size {
			t.Errorf("%s: object %s has %d bytes with SHA-256 %s, want %d bytes with %s", protocol, id, n, got, size, want)
		}
	}
	mp, err := s3c.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: &bucket, Prefix: &prefix})
	if err != nil {
		t.Fatal(err)
	}
	if len(mp.Uploads) != 0 {
		t.Errorf("%d multipart uploads left under %s", len(mp.Uploads), prefix)
	}
}

// checkAnnouncedThroughProxy creates an upload with interop version 8 and
// checks that the 104 reaches the client through the proxy with the same
// Location as the final response.
func checkAnnouncedThroughProxy(t *testing.T, base string) {
	t.Helper()
	var interim []string
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
		if code == 104 && h.Get("Location") != "" { // progress reports carry none
			interim = append(interim, h.Get("Location"))
		}
		return nil
	}}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodPost, base, strings.NewReader("abc"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Upload-Draft-Interop-Version", "8")
	req.Header.Set("Upload-Complete", "?0")
	req.Header.Set("Upload-Length", "10")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusCreated || len(interim) != 1 || interim[0] != loc || !strings.HasPrefix(loc, base) {
		t.Fatalf("creation through the proxy: %d, Location %q, 104 Locations %q; want 201 and one 104 announcing the same proxy URL",
			res.StatusCode, loc, interim)
	}
}

func objectSHA256(t *testing.T, c *s3.Client, bucket, key string) (string, int64) {
	t.Helper()
	obj, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer obj.Body.Close()
	h := sha256.New()
	n, err := io.Copy(h, obj.Body)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n
}

// removePrefix empties the test's prefix (objects and multipart uploads).
func removePrefix(c *s3.Client, bucket, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return
		}
		for _, o := range page.Contents {
			_, _ = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: o.Key})
		}
	}
	if mp, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &bucket, Prefix: &prefix}); err == nil {
		for _, u := range mp.Uploads {
			_, _ = c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &bucket, Key: u.Key, UploadId: u.UploadId})
		}
	}
}
