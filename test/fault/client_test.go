package fault

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"time"
)

// uploader is what the fault cases drive: it uploads data through any of
// the replicas at bases (upload base URLs), resuming after every failure,
// and returns the upload URL. id, when not empty, names an existing upload
// to work on (two clients racing on one upload). The project's Go client
// (client/) is to implement it once it lands; until then resumingClient, a
// plain tus client on net/http, does.
type uploader interface {
	Upload(ctx context.Context, bases []string, id string, data []byte) (string, error)
}

// resumingClient is a tus client that behaves like a mobile app: it sends
// the rest of the file in PATCHes of up to chunk bytes at a paced rate, and
// after any error (connection reset, 423, 409, 5xx) waits a moment, moves
// to the next replica, asks HEAD for the offset and goes on from there.
type resumingClient struct {
	chunk   int
	pace    time.Duration // sleep per 64 KiB of body
	backoff time.Duration
	// attempts bounds the requests of one Upload; ctx bounds its time.
	attempts int

	mu        sync.Mutex
	recovered []recovery
}

// recovery is one stretch from a failed request to the next answered HEAD.
type recovery struct {
	failedAt time.Time
	took     time.Duration
	cause    string // the first failure
}

func newResumingClient() *resumingClient {
	return &resumingClient{chunk: 8 << 20, pace: 4 * time.Millisecond, backoff: 100 * time.Millisecond, attempts: 2000}
}

// causes returns up to n distinct first failures, without upload IDs.
func (c *resumingClient) causes(n int) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	seen := map[string]bool{}
	var out []string
	for _, r := range c.recovered {
		k := idPattern.ReplaceAllString(r.cause, "ID")
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
func (c *resumingClient) recoveries(keep func(failedAt time.Time) bool) []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []time.Duration
	for _, r := range c.recovered {
		if keep == nil || keep(r.failedAt) {
			out = append(out, r.took)
		}
	}
	return out
}

func (c *resumingClient) Upload(ctx context.Context, bases []string, id string, data []byte) (string, error) {
	n := int64(len(data))
	pick := int(time.Now().UnixNano() % int64(len(bases)))
	var failedAt time.Time
	var lastErr, firstErr error
	fail := func(err error) error {
		if failedAt.IsZero() {
			failedAt, firstErr = time.Now(), err
		}
		lastErr = err
		pick++
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %w)", ctx.Err(), lastErr)
		case <-time.After(c.backoff):
			return nil
		}
	}
	for range c.attempts {
		base := bases[pick%len(bases)]
		if id == "" {
			loc, err := c.create(ctx, base, n)
			if err != nil {
				if err := fail(err); err != nil {
					return "", err
				}
				continue
			}
			id = loc
		}
		off, err := c.head(ctx, base+id)
		if err != nil {
			if err := fail(err); err != nil {
				return "", err
			}
			continue
		}
		if !failedAt.IsZero() {
			c.mu.Lock()
			c.recovered = append(c.recovered, recovery{failedAt, time.Since(failedAt), firstErr.Error()})
			c.mu.Unlock()
			failedAt = time.Time{}
		}
		if off == n {
			return base + id, nil
		}
		end := min(off+int64(c.chunk), n)
		if _, err := c.patch(ctx, base+id, off, data[off:end]); err != nil {
			if err := fail(err); err != nil {
				return "", err
			}
		}
	}
	return "", fmt.Errorf("upload %s: gave up after %d requests: %w", id, c.attempts, lastErr)
}

// create POSTs a new upload and returns its ID (the last path element).
func (c *resumingClient) create(ctx context.Context, base string, n int64) (string, error) {
	res, err := c.do(ctx, http.MethodPost, base, http.Header{"Upload-Length": {strconv.FormatInt(n, 10)}}, nil, 10*time.Second)
	if err != nil {
		return "", err
	}
	if res.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("POST %s: status %d", base, res.StatusCode)
	}
	loc := res.Header.Get("Location")
	for i := len(loc) - 1; i >= 0; i-- {
		if loc[i] == '/' {
			return loc[i+1:], nil
		}
	}
	return "", fmt.Errorf("POST %s: Location %q has no upload ID", base, loc)
}

func (c *resumingClient) head(ctx context.Context, u string) (int64, error) {
	res, err := c.do(ctx, http.MethodHead, u, nil, nil, 15*time.Second)
	if err != nil {
		return 0, err
	}
	if res.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("HEAD %s: status %d", u, res.StatusCode)
	}
	return strconv.ParseInt(res.Header.Get("Upload-Offset"), 10, 64)
}

func (c *resumingClient) patch(ctx context.Context, u string, off int64, body []byte) (int64, error) {
	h := http.Header{"Content-Type": {"application/offset+octet-stream"}, "Upload-Offset": {strconv.FormatInt(off, 10)}}
	res, err := c.do(ctx, http.MethodPatch, u, h, &pacedReader{b: body, pace: c.pace, ctx: ctx}, 30*time.Second)
	if err != nil {
		return 0, err
	}
	if res.StatusCode != http.StatusNoContent {
		return 0, fmt.Errorf("PATCH %s at %d: status %d", u, off, res.StatusCode)
	}
	return strconv.ParseInt(res.Header.Get("Upload-Offset"), 10, 64)
}

// do sends one request with Tus-Resumable and reads the body away; bound
// cuts a request to a stopped replica short.
func (c *resumingClient) do(ctx context.Context, method, u string, h http.Header, body io.Reader, bound time.Duration) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	if pr, ok := body.(*pacedReader); ok {
		req.ContentLength = int64(len(pr.b))
	}
	req.Header = h
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.Header.Set("Tus-Resumable", "1.0.0")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, u, err)
	}
	_, err = io.Copy(io.Discard, res.Body)
	if cerr := res.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: read response: %w", method, u, err)
	}
	return res, nil
}

// pacedReader hands out b in 64 KiB pieces with a pause after each, so a
// PATCH is in flight long enough for faults to hit it.
type pacedReader struct {
	b    []byte
	off  int
	pace time.Duration
	ctx  context.Context
}

func (r *pacedReader) Read(p []byte) (int, error) {
	if r.off >= len(r.b) {
		return 0, io.EOF
	}
	if r.off > 0 {
		select {
		case <-r.ctx.Done():
			return 0, r.ctx.Err()
		case <-time.After(r.pace):
		}
	}
	n := copy(p[:min(len(p), 64<<10)], r.b[r.off:])
	r.off += n
	return n, nil
}

var errCorrupt = errors.New("content differs from the source")
