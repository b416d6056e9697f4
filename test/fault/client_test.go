package fault

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sync"
	"time"

	"github.com/tusgate/tusgate/client"
)

// uploader is what the fault cases drive: it uploads data through any of
// the replicas at bases (upload base URLs), resuming after every failure,
// and returns the upload URL. resume, when not empty, is the URL of an
// existing upload to work on (two clients racing on one upload).
type uploader interface {
	Upload(ctx context.Context, bases []string, resume string, data []byte) (string, error)
}

// goClient uploads with the project's Go client (client/) the way a
// mobile app behind a load balancer would: PATCHes of up to chunk bytes at
// a paced rate, and after any failure (connection reset, 423, 409, 5xx) a
// short backoff, the next replica, an offset re-sync by HEAD and on from
// there. Moving between replicas is the failover transport's job; the
// client's own retries do the rest.
type goClient struct {
	chunk int64
	pace  time.Duration // sleep per 64 KiB of body
	retry client.Retry
	http  http.RoundTripper
	recorder
}

func newGoClient() *goClient {
	return &goClient{
		chunk: 8 << 20, pace: 4 * time.Millisecond,
		// Enough to outlast every fault here (Redis down 5 s, a stopped
		// replica); the case's context bounds the time.
		retry: client.Retry{Attempts: 200, Base: 100 * time.Millisecond, Max: time.Second},
		http:  http.DefaultTransport,
	}
}

// tus returns a client whose requests go through fo.
func (c *goClient) tus(fo *failover) (*client.Client, error) {
	// The bound cuts a request to a stopped replica short.
	return client.New(client.Config{HTTP: &http.Client{Transport: fo, Timeout: 30 * time.Second},
		ChunkSize: c.chunk, Retry: &c.retry})
}

func (c *goClient) Upload(ctx context.Context, bases []string, resume string, data []byte) (string, error) {
	fo := c.failover(bases)
	tc, err := c.tus(fo)
	if err != nil {
		return "", err
	}
	o := client.UploadOptions{Endpoint: bases[0]}
	if resume != "" {
		o.Resume = &client.Resume{URL: resume}
	}
	info, err := tc.Upload(ctx, &pacedReaderAt{b: data, pace: c.pace, ctx: ctx}, int64(len(data)), o)
	if err != nil {
		return "", fmt.Errorf("upload through %v: %w", bases, err)
	}
	return info.URL, nil
}

// create makes an upload of length bytes through base, sending body with
// the POST (creation-with-upload) when it is not empty.
func (c *goClient) create(ctx context.Context, base string, length int64, body []byte) (*client.Info, error) {
	tc, err := c.tus(c.failover([]string{base}))
	if err != nil {
		return nil, err
	}
	co := client.CreateOptions{Length: length}
	if len(body) > 0 {
		co.Body, co.BodySize = &pacedReaderAt{b: body, ctx: ctx}, int64(len(body))
	}
	return tc.Create(ctx, base, co)
}

// head asks base for the upload's state.
func (c *goClient) head(ctx context.Context, base, uploadURL string) (*client.Info, error) {
	tc, err := c.tus(c.failover([]string{base}))
	if err != nil {
		return nil, err
	}
	return tc.Head(ctx, uploadURL)
}

func (c *goClient) failover(bases []string) *failover {
	hosts := make([]string, len(bases))
	for i, b := range bases {
		if u, err := url.Parse(b); err == nil {
			hosts[i] = u.Host
		}
	}
	return &failover{next: c.http, hosts: hosts, rec: &c.recorder}
}

// failover sends every request to the current replica (host) and moves to
// the next one after a failure, as a load balancer that drops a bad
// backend would; upload URLs name the replica that created them, so the
// host is rewritten. It records each stretch from a failed request to the
// next answered HEAD. One per upload: it is not safe for concurrent use by
// several uploads' clients.
type failover struct {
	next  http.RoundTripper
	hosts []string
	rec   *recorder

	mu       sync.Mutex
	pick     int
	failedAt time.Time
	cause    string
	failures []string // of the current stretch, the first maxChain
	count    int      // failures in the current stretch
}

// maxChain bounds the failures a recovery keeps for the report.
const maxChain = 12

func (f *failover) RoundTrip(req *http.Request) (*http.Response, error) {
	f.mu.Lock()
	host := f.hosts[f.pick%len(f.hosts)]
	f.mu.Unlock()
	r := req.Clone(req.Context())
	r.URL.Host, r.Host = host, ""
	res, err := f.next.RoundTrip(r)
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case err != nil || res.StatusCode >= 400:
		what := fmt.Sprintf("%s %s", req.Method, r.URL)
		if err != nil {
			what += ": " + err.Error()
		} else {
			what += fmt.Sprintf(": status %d", res.StatusCode)
		}
		if f.failedAt.IsZero() {
			f.failedAt, f.cause = time.Now(), what
		}
		if f.count++; len(f.failures) < maxChain {
			f.failures = append(f.failures, fmt.Sprintf("+%s %s", time.Since(f.failedAt).Round(time.Millisecond), what))
		}
		f.pick++
	case req.Method == http.MethodHead && !f.failedAt.IsZero():
		f.rec.add(recovery{failedAt: f.failedAt, took: time.Since(f.failedAt), cause: f.cause, failures: f.failures, count: f.count})
		f.failedAt, f.failures, f.count = time.Time{}, nil, 0
	}
	return res, err
}

// recorder keeps the recoveries of every upload of a client.
type recorder struct {
	mu        sync.Mutex
	recovered []recovery
}

// recovery is one stretch from a failed request to the next answered HEAD.
type recovery struct {
	failedAt time.Time
	took     time.Duration
	cause    string // the first failure
	failures []string
	count    int
}

// chain describes the failures of the stretch, for a report.
func (r recovery) chain() string {
	out := fmt.Sprintf("%d failed requests", r.count)
	for _, f := range r.failures {
		out += "\n      " + idPattern.ReplaceAllString(f, "ID")
	}
	if r.count > len(r.failures) {
		out += "\n      ..."
	}
	return out
}

func (r *recorder) add(v recovery) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recovered = append(r.recovered, v)
}

// causes returns up to n distinct first failures, without upload IDs.
func (r *recorder) causes(n int) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[string]bool{}
	var out []string
	for _, v := range r.recovered {
		k := idPattern.ReplaceAllString(v.cause, "ID")
		k = portPattern.ReplaceAllString(k, ":PORT")
		if !seen[k] && len(out) < n {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

var (
	idPattern   = regexp.MustCompile(`[0-9a-f]{32}`)
	portPattern = regexp.MustCompile(`:\d{2,5}\b`)
)

// recoveries returns the recovery times seen so far whose failure keep
// accepts (nil: all).
func (r *recorder) recoveries(keep func(failedAt time.Time) bool) []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []time.Duration
	for _, v := range r.recovered {
		if keep == nil || keep(v.failedAt) {
			out = append(out, v.took)
		}
	}
	return out
}

// longest returns the slowest recovery, for the report.
func (r *recorder) longest() (recovery, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out recovery
	for _, v := range r.recovered {
		if v.took > out.took {
			out = v
		}
	}
	return out, len(r.recovered) > 0
}

// pacedReaderAt serves b with a pause of pace per 64 KiB read, so a PATCH
// is in flight long enough for faults to hit it.
type pacedReaderAt struct {
	b    []byte
	pace time.Duration
	ctx  context.Context
}

func (r *pacedReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(r.b)) {
		return 0, io.EOF
	}
	n := copy(p, r.b[off:])
	if r.pace > 0 {
		t := time.NewTimer(r.pace * time.Duration(n) / (64 << 10))
		defer t.Stop()
		select {
		case <-r.ctx.Done():
			return 0, r.ctx.Err()
		case <-t.C:
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

var errCorrupt = errors.New("content differs from the source")
