package fault

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

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
// and stopped), an object store under a prefix of its own, and replicas on
// both.
type env struct {
	t      *testing.T
	redis  *testenv.RedisServer
	minio  *testenv.MinIOServer // a private MinIO the case may restart; nil: shared
	store  objectStore
	prefix string
	nodes  []*e2e.Proc
	rss    *rssWatch
	// rewoundBefore counts the rewinds logged by replicas since restarted
	// (under rss.mu).
	rewoundBefore int
}

// newEnv starts the case's world on S3; see newEnvOn.
func newEnv(t *testing.T, replicas int, ownMinIO bool, extra ...string) *env {
	t.Helper()
	return newEnvOn(t, kindS3, replicas, ownMinIO, extra...)
}

// newEnvOn starts the case's world on the store kind; ownMinIO gives it
// a private MinIO that it may stop and start; extra flags go to every
// replica.
func newEnvOn(t *testing.T, kind storeKind, replicas int, ownMinIO bool, extra ...string) *env {
	t.Helper()
	if kind.name == kindS3.name && (os.Getenv("AWS_ACCESS_KEY_ID") == "" || os.Getenv("AWS_SECRET_ACCESS_KEY") == "") {
		t.Fatal("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set with TUSGATE_TEST_S3_ENDPOINT")
	}
	store, own := kind.open(t, ownMinIO)
	e := &env{
		minio:  own,
		t:      t,
		redis:  testenv.StartRedis(t),
		store:  store,
		prefix: "fault/" + strings.ToLower(rand.Text()[:10]) + "/",
		rss:    &rssWatch{peak: map[int]int64{}},
	}
	opts := e2e.Options{Env: store.procEnv()}
	for range replicas {
		args := append([]string{"--state", e.redis.URL, "--store", store.storeURL(e.prefix),
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
	old := e.node(i)
	p := old.Restart()
	e.rss.mu.Lock()
	e.nodes[i] = p
	e.rewoundBefore += rewinds(old)
	e.rss.mu.Unlock()
}

// rewound counts the uploads the replicas moved back because the store
// lost parts it had confirmed (MinIO after a cut-off completion).
func (e *env) rewound() int {
	e.rss.mu.Lock()
	defer e.rss.mu.Unlock()
	n := e.rewoundBefore
	for _, p := range e.nodes {
		n += rewinds(p)
	}
	return n
}

// rewindLog is the line the gateway logs for each rewind.
const rewindLog = "the store lost acknowledged bytes of an upload"

func rewinds(p *e2e.Proc) int { return strings.Count(p.Logs(), rewindLog) }

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

// leaked lists what the store holds under the case's prefix besides the
// finished objects: multipart uploads, tails, part objects, staged blocks.
func (e *env) leaked(ctx context.Context, finished map[string]bool) ([]string, error) {
	objects, pending, err := e.store.keys(ctx, e.prefix)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, k := range objects {
		if !finished[path.Base(k)] {
			out = append(out, k)
		}
	}
	return append(out, pending...), nil
}

// removeAll empties the case's prefix.
func (e *env) removeAll() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	e.store.removeAll(ctx, e.prefix)
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
