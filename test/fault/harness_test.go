package fault

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/tusgate/tusgate/test/e2e"
	"github.com/tusgate/tusgate/test/testenv"
)

const (
	MiB = 1 << 20
	// leaseTTL is short so a SIGSTOP "longer than the lease" stays short;
	// takeovers of dead or stopped holders come from the liveness check.
	leaseTTL = 3 * time.Second
)

// env is one case's world: a private Redis (AOF on, so it can be restarted
// and stopped), the shared MinIO under a prefix of its own, and three
// replicas on both.
type env struct {
	t      *testing.T
	redis  *testenv.RedisServer
	minio  *testenv.MinIOServer // nil: the shared MinIO
	bucket string
	prefix string
	s3     *s3.Client
	nodes  []*e2e.Proc
	rss    *rssWatch
}

// newEnv starts the case's world; ownMinIO gives it a private MinIO that
// it may stop and start; extra flags go to every replica.
func newEnv(t *testing.T, replicas int, ownMinIO bool, extra ...string) *env {
	t.Helper()
	endpoint, bucket := testenv.S3Endpoint(t)
	if os.Getenv("AWS_ACCESS_KEY_ID") == "" || os.Getenv("AWS_SECRET_ACCESS_KEY") == "" {
		t.Fatal("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set with TUSGATE_TEST_S3_ENDPOINT")
	}
	var own *testenv.MinIOServer
	if ownMinIO {
		own = testenv.StartMinIO(t)
		endpoint, bucket = own.Endpoint, own.Bucket
	}
	e := &env{
		minio:  own,
		t:      t,
		redis:  testenv.StartRedis(t),
		bucket: bucket,
		prefix: "fault/" + strings.ToLower(rand.Text()[:10]) + "/",
		s3:     testenv.S3Client(t, endpoint),
		rss:    &rssWatch{peak: map[int]int64{}},
	}
	q := url.Values{}
	q.Set("endpoint", endpoint)
	q.Set("path_style", "true")
	q.Set("min_part_size", "5MiB")
	q.Set("part_size", "5MiB")
	store := fmt.Sprintf("s3://%s/%s?%s", bucket, e.prefix, q.Encode())
	opts := e2e.Options{Env: []string{"AWS_REGION=us-east-1"}}
	for range replicas {
		args := append([]string{"--state", e.redis.URL, "--store", store,
			"--lease-ttl", leaseTTL.String(), "--lock-timeout", "10s"}, extra...)
		e.nodes = append(e.nodes, e2e.StartWith(t, opts, args...))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.rss.run(ctx, e) }()
	t.Cleanup(func() { cancel(); <-done; e.removeAll() })
	return e
}

// bases lists the replicas' upload base URLs.
func (e *env) bases() []string {
	e.rss.mu.Lock()
	defer e.rss.mu.Unlock()
	out := make([]string, len(e.nodes))
	for i, p := range e.nodes {
		out[i] = p.URL
	}
	return out
}

// node returns replica i under the lock that restarts swap it under.
func (e *env) node(i int) *e2e.Proc {
	e.rss.mu.Lock()
	defer e.rss.mu.Unlock()
	return e.nodes[i]
}

// restart starts replica i again after it was killed (same address).
func (e *env) restart(i int) {
	p := e.node(i).Restart()
	e.rss.mu.Lock()
	e.nodes[i] = p
	e.rss.mu.Unlock()
}

// verify downloads u through any replica and compares it with data.
func verify(ctx context.Context, bases []string, u string, data []byte) error {
	want := sha256.Sum256(data)
	var last error
	// A fault (Redis down 5 s, a stopped replica) may hold the GET up; the
	// object is checked once any replica serves it within a minute.
	deadline := time.Now().Add(time.Minute)
	for i := 0; i == 0 || time.Now().Before(deadline); i++ {
		base := bases[i%len(bases)]
		got, n, err := download(ctx, base+path.Base(u))
		if err == nil {
			if n != int64(len(data)) || got != want {
				return fmt.Errorf("%s: %d bytes with SHA-256 %x, want %d bytes with %x: %w", u, n, got, len(data), want, errCorrupt)
			}
			return nil
		}
		last = err
		time.Sleep(250 * time.Millisecond)
	}
	return fmt.Errorf("download %s: %w", u, last)
}

func download(ctx context.Context, u string) (sum [sha256.Size]byte, n int64, err error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return sum, 0, err
	}
	req.Header.Set("Tus-Resumable", "1.0.0")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return sum, 0, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return sum, 0, fmt.Errorf("GET %s: status %d", u, res.StatusCode)
	}
	h := sha256.New()
	if n, err = io.Copy(h, res.Body); err != nil {
		return sum, n, err
	}
	copy(sum[:], h.Sum(nil))
	return sum, n, nil
}

// leaked lists what the bucket holds under the case's prefix besides the
// finished objects: multipart uploads, tails, part objects.
func (e *env) leaked(ctx context.Context, finished map[string]bool) ([]string, error) {
	var out []string
	keys, err := e.list(ctx)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if !finished[path.Base(k)] {
			out = append(out, k)
		}
	}
	mp, err := e.s3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &e.bucket, Prefix: &e.prefix})
	if err != nil {
		return nil, fmt.Errorf("list multipart uploads: %w", err)
	}
	for _, u := range mp.Uploads {
		out = append(out, "multipart:"+aws.ToString(u.Key))
	}
	return out, nil
}

func (e *env) list(ctx context.Context) ([]string, error) {
	var keys []string
	p := s3.NewListObjectsV2Paginator(e.s3, &s3.ListObjectsV2Input{Bucket: &e.bucket, Prefix: &e.prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list objects: %w", err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys, nil
}

// removeAll empties the case's prefix (objects and multipart uploads).
func (e *env) removeAll() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	keys, _ := e.list(ctx)
	for _, k := range keys {
		_, _ = e.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &e.bucket, Key: aws.String(k)})
	}
	mp, err := e.s3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &e.bucket, Prefix: &e.prefix})
	if err == nil {
		for _, u := range mp.Uploads {
			_, _ = e.s3.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &e.bucket, Key: u.Key, UploadId: u.UploadId})
		}
	}
}

// rssWatch samples each replica's peak resident set (VmHWM) every 500 ms.
type rssWatch struct {
	mu   sync.Mutex
	peak map[int]int64 // replica index -> bytes
}

func (w *rssWatch) run(ctx context.Context, e *env) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		w.mu.Lock()
		for i, p := range e.nodes {
			if v := vmHWM(p.PID()); v > w.peak[i] {
				w.peak[i] = v
			}
		}
		w.mu.Unlock()
	}
}

func (w *rssWatch) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var parts []string
	for i := range len(w.peak) {
		parts = append(parts, fmt.Sprintf("replica %d %.0f MiB", i, float64(w.peak[i])/MiB))
	}
	return strings.Join(parts, ", ")
}

// vmHWM reads the peak resident set of pid; 0 when it is gone.
func vmHWM(pid int) int64 {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func source(size int, seed uint64) []byte { return testenv.Source(size, seed) }
