package replica

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tusgate/tusgate/test/e2e"
	"github.com/tusgate/tusgate/test/testenv"
)

const (
	MiB = 1 << 20

	// The lease and lock settings every replica runs with: a short lease so
	// a dead holder's uploads are free again within a test, and a lock
	// timeout far above any takeover.
	leaseTTL    = 2 * time.Second
	lockTimeout = 10 * time.Second

	// eventDeadline bounds waits for events (a file to appear, a process
	// to notice something); it only catches hangs.
	eventDeadline = 60 * time.Second
)

// sharedDB is the database of the shared Redis these tests use, so they
// never see the keys of other packages' tests.
const sharedDB = 7

// sharedRedis returns the URL of database 7 of the shared Redis, emptied.
// Tests in this package run one after another, so flushing is safe.
func sharedRedis(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(testenv.RedisURL(t))
	if err != nil {
		t.Fatalf("TUSGATE_TEST_REDIS_URL: %v", err)
	}
	u.Path = "/" + strconv.Itoa(sharedDB)
	flushDB(t, u.String())
	return u.String()
}

func flushDB(t *testing.T, rawURL string) {
	t.Helper()
	o, err := redis.ParseURL(rawURL)
	if err != nil {
		t.Fatalf("parse %s: %v", rawURL, err)
	}
	c := redis.NewClient(o)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.FlushDB(ctx).Err(); err != nil {
		t.Fatalf("FLUSHDB %s: %v", rawURL, err)
	}
}

// cluster is a set of replicas sharing one state store and one file directory.
type cluster struct {
	files string
	nodes []*e2e.Proc
}

// startCluster starts n replicas on stateURL and a new shared directory.
// extra flags come last, so they override the defaults.
func startCluster(t *testing.T, n int, stateURL string, extra ...string) *cluster {
	t.Helper()
	c := &cluster{files: filepath.Join(t.TempDir(), "files")}
	args := append([]string{
		"--state", stateURL,
		"--store", "file://" + c.files,
		"--lease-ttl", leaseTTL.String(),
		"--lock-timeout", lockTimeout.String(),
	}, extra...)
	for range n {
		c.nodes = append(c.nodes, e2e.Start(t, args...))
	}
	return c
}

// at is the URL of upload u (an absolute URL from any replica) on replica i.
func (c *cluster) at(i int, u string) string {
	return c.nodes[i].URL + path.Base(u)
}

// origin is the scheme://host:port of replica i.
func (c *cluster) origin(i int) string {
	return strings.TrimSuffix(c.nodes[i].URL, "/files/")
}

// source returns size deterministic pseudo-random bytes for seed.
func source(size int, seed uint64) []byte { return testenv.Source(size, seed) }

// threeWithUpload starts three replicas on the shared Redis and creates an
// upload of size bytes on replica on; data is the seeded source for it.
func threeWithUpload(t *testing.T, size int, seed uint64, on int) (c *cluster, data []byte, u string) {
	t.Helper()
	c = startCluster(t, 3, sharedRedis(t))
	return c, source(size, seed), e2e.Create(t, c.nodes[on].URL, int64(size), nil)
}

// checkContent downloads u and compares it with want.
func checkContent(t *testing.T, u string, want []byte) {
	t.Helper()
	sum, n := e2e.DownloadSHA256(t, u)
	if n != int64(len(want)) || sum != sha256.Sum256(want) {
		t.Fatalf("GET %s: %d bytes with SHA-256 %x, want %d bytes with %x", u, n, sum, len(want), sha256.Sum256(want))
	}
}

// reply is a response with its body read.
type reply struct {
	status int
	header http.Header
	body   string
	took   time.Duration
}

// send makes one request and returns the reply, failing the test if no
// response arrives within bound (a hang, not a slow answer).
func send(t *testing.T, method, u string, header http.Header, body []byte, bound time.Duration) reply {
	t.Helper()
	r, err := try(method, u, header, body, bound)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// try is send for goroutines other than the test's: it returns the error.
func try(method, u string, header http.Header, body []byte, bound time.Duration) (reply, error) {
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := e2e.NewRequest(ctx, method, u, r)
	if err != nil {
		return reply{}, err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	start := time.Now()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: no response within %s: %w", method, u, bound, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: read body: %w", method, u, err)
	}
	return reply{status: res.StatusCode, header: res.Header, body: string(b), took: time.Since(start)}, nil
}

// patchHeader is what a PATCH at offset carries.
func patchHeader(offset int64) http.Header {
	return http.Header{
		"Content-Type":  {"application/offset+octet-stream"},
		"Upload-Offset": {strconv.FormatInt(offset, 10)},
	}
}

// uploadOffset parses the Upload-Offset of a reply; -1 when there is none.
func uploadOffset(t *testing.T, h http.Header) int64 {
	t.Helper()
	v := h.Get("Upload-Offset")
	if v == "" {
		return -1
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		t.Fatalf("Upload-Offset %q is not a non-negative integer", v)
	}
	return n
}

// metric reads a counter or gauge without labels from replica i's /metrics.
func (c *cluster) metric(t *testing.T, i int, name string) float64 {
	t.Helper()
	v, ok := e2e.Scrape(t, c.origin(i)+"/metrics").Values[name]
	if !ok {
		t.Fatalf("metric %s not found on replica %d", name, i)
	}
	return v
}

// dataFiles lists the regular files under the shared directory (the file
// backend's upload files), skipping its transient readiness probes.
func (c *cluster) dataFiles(t *testing.T) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(c.files, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() || strings.HasPrefix(d.Name(), ".ping-") {
			return err
		}
		out = append(out, p)
		return nil
	})
	if err != nil {
		t.Fatalf("list %s: %v", c.files, err)
	}
	return out
}

// dataFile is the file holding upload u's bytes.
func (c *cluster) dataFile(u string) string {
	id := path.Base(u)
	return filepath.Join(c.files, id[:2], id+".bin")
}

func mib(n int64) string { return fmt.Sprintf("%.2f MiB", float64(n)/MiB) }
