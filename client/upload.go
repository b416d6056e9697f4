package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// Progress is reported while bytes are sent. Sent may go back after a
// failed request: it counts what the server acknowledged plus what is in
// flight.
type Progress struct {
	Sent int64
	// Total is the upload's size, -1 while unknown (streams).
	Total int64
}

// Resume is what must be kept to continue an upload later: the upload URL
// or, for a parallel upload not yet concatenated, its partials.
type Resume struct {
	URL      string   `json:"url,omitempty"`
	Partials []string `json:"partials,omitempty"`
}

// UploadOptions shape Upload and UploadStream.
type UploadOptions struct {
	// Endpoint is the creation URL, e.g. http://host/files/.
	Endpoint string
	Metadata map[string]string
	// Resume continues an earlier attempt; an upload it names that is gone
	// (404/410) is started afresh.
	Resume *Resume
	// OnResume is called whenever the resume state changes, so a caller can
	// persist it before bytes are sent.
	OnResume func(Resume)
	// Parallel > 1 uploads that many partials at once and concatenates them.
	Parallel int
	// CreateWithUpload sends the first chunk with the POST when the server
	// offers creation-with-upload.
	CreateWithUpload bool
	// Progress, if set, is called as bytes are sent (from several
	// goroutines when Parallel > 1, but never concurrently).
	Progress func(Progress)
}

// tracker sums acknowledged and in-flight bytes over the parts of an upload.
type tracker struct {
	mu       sync.Mutex
	total    int64
	acked    []int64
	inflight []int64
	fn       func(Progress)
}

func newTracker(parts int, total int64, fn func(Progress)) *tracker {
	return &tracker{total: total, acked: make([]int64, parts), inflight: make([]int64, parts), fn: fn}
}

func (t *tracker) update(part int, f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f()
	if t.fn == nil {
		return
	}
	var sum int64
	for i := range t.acked {
		sum += t.acked[i] + t.inflight[i]
	}
	t.fn(Progress{Sent: sum, Total: t.total})
}

func (t *tracker) ack(part int, n int64) {
	t.update(part, func() { t.acked[part], t.inflight[part] = n, 0 })
}

func (t *tracker) sending(part int) func(int64) {
	return func(n int64) { t.update(part, func() { t.inflight[part] += n }) }
}

// check verifies the server offers what the options need.
func (c *Client) check(srv *Server, o UploadOptions, deferred bool) error {
	if len(srv.Extensions) > 0 && !srv.Has("creation") {
		return fmt.Errorf("%w: creation", ErrUnsupported)
	}
	if o.Parallel > 1 && !srv.Has("concatenation") {
		return fmt.Errorf("%w: concatenation (needed for parallel uploads)", ErrUnsupported)
	}
	if deferred && !srv.Has("creation-defer-length") {
		return fmt.Errorf("%w: creation-defer-length (needed for streams)", ErrUnsupported)
	}
	if c.alg != "" {
		if !srv.Has("checksum") {
			return fmt.Errorf("%w: checksum", ErrUnsupported)
		}
		if !srv.HasAlgorithm(c.alg) {
			return fmt.Errorf("%w: checksum algorithm %s (server has %v)", ErrUnsupported, c.alg, srv.Algorithms)
		}
		if c.trailer && !srv.Has("checksum-trailer") {
			return fmt.Errorf("%w: checksum-trailer", ErrUnsupported)
		}
	}
	return nil
}

// Upload sends size bytes of r and returns the finished upload.
func (c *Client) Upload(ctx context.Context, r io.ReaderAt, size int64, o UploadOptions) (*Info, error) {
	if size < 0 {
		return nil, fmt.Errorf("client: negative size %d", size)
	}
	srv, err := c.Discover(ctx, o.Endpoint)
	if err != nil {
		return nil, err
	}
	if err := c.check(srv, o, false); err != nil {
		return nil, err
	}
	if srv.MaxSize > 0 && size > srv.MaxSize {
		return nil, fmt.Errorf("client: %d bytes exceed the server's Tus-Max-Size %d", size, srv.MaxSize)
	}
	if o.Resume != nil && o.Resume.URL != "" {
		info, err := c.Head(ctx, o.Resume.URL)
		switch {
		case err == nil && info.Length == size:
			if info.Complete() {
				c.report(o, size)
				return info, nil
			}
			if info.Concat == "" {
				return c.finishSingle(ctx, info, r, size, o)
			}
		case err != nil && !errors.Is(err, ErrNotFound):
			return nil, err
		}
		c.log.Info("resume URL not usable; starting afresh", "url", o.Resume.URL, "err", err)
	}
	parts := o.Parallel
	if int64(parts) > size {
		parts = int(size)
	}
	if parts > 1 {
		return c.uploadParallel(ctx, r, size, parts, o)
	}
	co := CreateOptions{Length: size, Metadata: o.Metadata}
	if o.CreateWithUpload && srv.Has("creation-with-upload") && size > 0 {
		co.Body, co.BodySize = r, c.chunkLen(size)
	}
	info, err := c.Create(ctx, o.Endpoint, co)
	if err != nil {
		return nil, err
	}
	return c.finishSingle(ctx, info, r, size, o)
}

func (c *Client) report(o UploadOptions, size int64) {
	if o.Progress != nil {
		o.Progress(Progress{Sent: size, Total: size})
	}
}

func (c *Client) chunkLen(rest int64) int64 {
	if c.chunk > 0 && c.chunk < rest {
		return c.chunk
	}
	return rest
}

func (c *Client) finishSingle(ctx context.Context, info *Info, r io.ReaderAt, size int64, o UploadOptions) (*Info, error) {
	if o.OnResume != nil {
		o.OnResume(Resume{URL: info.URL})
	}
	t := newTracker(1, size, o.Progress)
	t.ack(0, info.Offset)
	off, err := c.send(ctx, info.URL, r, 0, info.Offset, size, -1, t, 0)
	if err != nil {
		return nil, err
	}
	info.Offset, info.Length = off, size
	return info, nil
}

// uploadParallel splits r into parts partials, uploads them concurrently
// and concatenates them into a final upload.
func (c *Client) uploadParallel(ctx context.Context, r io.ReaderAt, size int64, parts int, o UploadOptions) (*Info, error) {
	bounds := make([]int64, parts+1)
	for i := range bounds {
		bounds[i] = size * int64(i) / int64(parts)
	}
	urls := make([]string, parts)
	if o.Resume != nil && len(o.Resume.Partials) == parts {
		copy(urls, o.Resume.Partials)
	}
	offsets := make([]int64, parts)
	for i := range urls {
		length := bounds[i+1] - bounds[i]
		if urls[i] != "" {
			info, err := c.Head(ctx, urls[i])
			if err == nil && info.Length == length && info.Concat == "partial" {
				offsets[i] = info.Offset
				continue
			}
			if err != nil && !errors.Is(err, ErrNotFound) {
				return nil, err
			}
		}
		info, err := c.Create(ctx, o.Endpoint, CreateOptions{Length: length, Partial: true})
		if err != nil {
			return nil, err
		}
		urls[i], offsets[i] = info.URL, info.Offset
	}
	if o.OnResume != nil {
		o.OnResume(Resume{Partials: append([]string(nil), urls...)})
	}
	t := newTracker(parts, size, o.Progress)
	g, gctx := errgroup.WithContext(ctx)
	for i := range urls {
		t.acked[i] = offsets[i]
	}
	t.ack(0, offsets[0])
	for i := range urls {
		g.Go(func() error {
			_, err := c.send(gctx, urls[i], r, bounds[i], offsets[i], bounds[i+1]-bounds[i], -1, t, i)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	info, err := c.Concat(ctx, o.Endpoint, urls, o.Metadata)
	if err != nil {
		return nil, err
	}
	if o.OnResume != nil {
		o.OnResume(Resume{URL: info.URL})
	}
	info.Offset, info.Length = size, size
	return info, nil
}

// send PATCHes bytes [off, end) of an upload, reading upload byte i at
// r.ReadAt(base+i), until the server's offset reaches end. When declare >=
// 0 the last PATCH declares that Upload-Length (deferred length). Failed
// requests are retried after re-reading the offset with HEAD.
func (c *Client) send(ctx context.Context, url string, r io.ReaderAt, base, off, end, declare int64, t *tracker, part int) (int64, error) {
	failures := 0
	declared := false
	for {
		last := off+c.chunkLen(end-off) == end
		needDeclare := declare >= 0 && !declared && last
		if off == end && !needDeclare {
			return off, nil
		}
		n := c.chunkLen(end - off)
		h := http.Header{}
		h.Set("Upload-Offset", strconv.FormatInt(off, 10))
		h.Set("Content-Type", offsetOctetStream)
		if needDeclare {
			h.Set("Upload-Length", strconv.FormatInt(declare, 10))
		}
		res, err := c.once(ctx, http.MethodPatch, url, h, c.sectionBody(r, base+off, n, t.sending(part)), http.StatusNoContent)
		if err == nil {
			next, perr := parseNonNeg(res.Header.Get("Upload-Offset"))
			if perr != nil || next < off || next > end {
				return off, fmt.Errorf("%w: PATCH %s: Upload-Offset %q after %d", ErrProtocol, url, res.Header.Get("Upload-Offset"), off)
			}
			if next > off || needDeclare {
				failures = 0
			}
			declared = declared || needDeclare
			off = next
			t.ack(part, off)
			continue
		}
		t.ack(part, off)
		if ctx.Err() != nil {
			return off, err
		}
		var se *StatusError
		isStatus := errors.As(err, &se)
		resync := isNetErr(err) || isStatus && (retryable(se.Status) || se.Status == http.StatusConflict || se.Status == 460)
		if !resync || failures >= c.retry.Attempts {
			return off, err
		}
		var after time.Duration
		if isStatus {
			after = se.RetryAfter
		}
		d := c.backoff(failures, after)
		failures++
		c.log.Debug("PATCH failed; re-syncing the offset", "url", url, "offset", off, "err", err, "in", d)
		if err := sleep(ctx, d); err != nil {
			return off, fmt.Errorf("PATCH %s: %w", url, err)
		}
		info, herr := c.Head(ctx, url)
		if herr != nil {
			return off, herr
		}
		if info.Offset > end || info.Offset < 0 {
			return off, fmt.Errorf("%w: HEAD %s: offset %d outside [0, %d]", ErrProtocol, url, info.Offset, end)
		}
		off = info.Offset
		declared = declared || (declare >= 0 && info.Length == declare)
		t.ack(part, off)
	}
}

// UploadStream sends a stream of unknown length (deferred length), one
// chunk in memory at a time (ChunkSize, default 8 MiB). Streams cannot be
// resumed by a later process.
func (c *Client) UploadStream(ctx context.Context, r io.Reader, o UploadOptions) (*Info, error) {
	srv, err := c.Discover(ctx, o.Endpoint)
	if err != nil {
		return nil, err
	}
	if err := c.check(srv, UploadOptions{}, true); err != nil {
		return nil, err
	}
	info, err := c.Create(ctx, o.Endpoint, CreateOptions{Length: -1, Metadata: o.Metadata})
	if err != nil {
		return nil, err
	}
	if o.OnResume != nil {
		o.OnResume(Resume{URL: info.URL})
	}
	chunk := c.chunk
	if chunk == 0 {
		chunk = 8 << 20
	}
	buf := make([]byte, chunk)
	t := newTracker(1, -1, o.Progress)
	var off int64
	for {
		n, rerr := io.ReadFull(r, buf)
		if rerr != nil && !errors.Is(rerr, io.EOF) && !errors.Is(rerr, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("client: read stream: %w", rerr)
		}
		eof := rerr != nil
		declare := int64(-1)
		if eof {
			declare = off + int64(n)
		}
		// The chunk is addressed at its upload offset: byte i is buf[i-off].
		next, err := c.send(ctx, info.URL, &shifted{bytes.NewReader(buf[:n]), off}, 0, off, off+int64(n), declare, t, 0)
		if err != nil {
			return nil, err
		}
		off = next
		if eof {
			info.Offset, info.Length = off, off
			return info, nil
		}
	}
}

// shifted reads a buffer that starts at upload offset at.
type shifted struct {
	r  *bytes.Reader
	at int64
}

func (s *shifted) ReadAt(p []byte, off int64) (int, error) { return s.r.ReadAt(p, off-s.at) }
