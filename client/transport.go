package client

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Algorithms are the checksum algorithms the client can compute.
var Algorithms = []string{"sha1", "sha256", "sha512", "md5", "crc32"}

func newHash(alg string) (hash.Hash, error) {
	switch alg {
	case "sha1":
		return sha1.New(), nil
	case "sha256":
		return sha256.New(), nil
	case "sha512":
		return sha512.New(), nil
	case "md5":
		return md5.New(), nil
	case "crc32":
		return crc32.NewIEEE(), nil
	}
	return nil, fmt.Errorf("client: unknown checksum algorithm %q (have %v)", alg, Algorithms)
}

// maxErrorBody bounds how much of an error response is kept for messages.
const maxErrorBody = 512

// body makes a fresh request body for each attempt. It may set headers
// (Content-Length, Upload-Checksum) on h and returns the trailer to send.
type bodyFunc func(h http.Header) (r io.Reader, size int64, trailer http.Header, err error)

// sectionBody sends size bytes of r from off. With a checksum configured
// it either hashes the section first (header) or while sending (trailer).
// sent, if set, is told how many bytes have been read into the request.
func (c *Client) sectionBody(r io.ReaderAt, off, size int64, sent func(int64)) bodyFunc {
	return func(h http.Header) (io.Reader, int64, http.Header, error) {
		var body io.Reader = io.NewSectionReader(r, off, size)
		if sent != nil {
			body = &countingReader{r: body, add: sent}
		}
		if c.alg == "" {
			return body, size, nil, nil
		}
		hs, _ := newHash(c.alg) // validated by New
		if !c.trailer {
			// A second read of the section costs I/O but no memory.
			if _, err := io.Copy(hs, io.NewSectionReader(r, off, size)); err != nil {
				return nil, 0, nil, fmt.Errorf("client: read for checksum: %w", err)
			}
			h.Set("Upload-Checksum", c.alg+" "+base64.StdEncoding.EncodeToString(hs.Sum(nil)))
			return body, size, nil, nil
		}
		trailer := http.Header{"Upload-Checksum": nil}
		return &trailerReader{r: io.TeeReader(body, hs), done: func() {
			trailer.Set("Upload-Checksum", c.alg+" "+base64.StdEncoding.EncodeToString(hs.Sum(nil)))
		}}, -1, trailer, nil
	}
}

type countingReader struct {
	r   io.Reader
	add func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.add(int64(n))
	}
	return n, err
}

// recordingReader remembers a read error of the upload's source.
type recordingReader struct {
	r   io.Reader
	err error
}

func (r *recordingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		r.err = err
	}
	return n, err
}

// trailerReader fills the trailer once the body has been read to EOF; the
// transport sends trailers only after that.
type trailerReader struct {
	r    io.Reader
	once sync.Once
	done func()
}

func (t *trailerReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if errors.Is(err, io.EOF) {
		t.once.Do(t.done)
	}
	return n, err
}

// retryable reports whether a status is worth repeating the request for.
func retryable(status int) bool {
	switch status {
	case http.StatusLocked, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// backoff is the delay before retry number n (0-based): exponential with
// jitter, or the server's Retry-After when it asks for longer.
func (c *Client) backoff(n int, retryAfter time.Duration) time.Duration {
	d := c.retry.Base << min(n, 20)
	if d > c.retry.Max || d <= 0 {
		d = c.retry.Max
	}
	// Jitter spreads the retries of many clients after a shared outage.
	d = d/2 + rand.N(d/2+1)
	if retryAfter > d {
		d = retryAfter
	}
	return d
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// do sends one request, retrying network errors and retryable statuses,
// and returns the response (body drained and closed) when its status is one
// of ok.
func (c *Client) do(ctx context.Context, method, url string, h http.Header, body bodyFunc, ok ...int) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		res, err := c.once(ctx, method, url, h, body, ok...)
		if err == nil {
			return res, nil
		}
		var se *StatusError
		retry := errors.As(err, &se) && retryable(se.Status) || isNetErr(err)
		if !retry || attempt >= c.retry.Attempts || ctx.Err() != nil {
			return nil, err
		}
		var after time.Duration
		if se != nil {
			after = se.RetryAfter
		}
		d := c.backoff(attempt, after)
		c.log.Debug("tus request failed; retrying", "method", method, "url", url, "err", err, "in", d)
		if err := sleep(ctx, d); err != nil {
			return nil, fmt.Errorf("%s %s: %w", method, url, err)
		}
	}
}

// isNetErr: anything that is not an HTTP status and not the caller's own
// cancellation is treated as a transport failure worth retrying.
func isNetErr(err error) bool {
	var se *StatusError
	if errors.As(err, &se) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var te *transportError
	return errors.As(err, &te)
}

type transportError struct{ err error }

func (e *transportError) Error() string { return e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

// once sends a single request without retrying.
func (c *Client) once(ctx context.Context, method, url string, h http.Header, body bodyFunc, ok ...int) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return nil, fmt.Errorf("client: %s %s: %w", method, url, err)
	}
	for k, vs := range c.header {
		req.Header[k] = append([]string(nil), vs...)
	}
	for k, vs := range h {
		req.Header[k] = append([]string(nil), vs...)
	}
	if method != http.MethodOptions {
		req.Header.Set("Tus-Resumable", Version)
	}
	var rec *recordingReader
	if body != nil {
		r, size, trailer, err := body(req.Header)
		if err != nil {
			return nil, err
		}
		rec = &recordingReader{r: r}
		req.Body = io.NopCloser(rec)
		req.ContentLength = size
		req.Trailer = trailer
		if size == 0 {
			req.Body = http.NoBody
		}
	}
	res, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s %s: %w", method, url, ctx.Err())
		}
		if rec != nil && rec.err != nil {
			// The data source failed, not the network: retrying will not help.
			return nil, fmt.Errorf("%s %s: read upload data: %w", method, url, rec.err)
		}
		return nil, &transportError{fmt.Errorf("%s %s: %w", method, url, err)}
	}
	defer res.Body.Close()
	for _, s := range ok {
		if res.StatusCode == s {
			_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
			return res, nil
		}
	}
	msg, _ := io.ReadAll(io.LimitReader(res.Body, maxErrorBody))
	se := &StatusError{Method: method, URL: url, Status: res.StatusCode, Message: string(msg)}
	if v := res.Header.Get("Retry-After"); v != "" {
		if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
			se.RetryAfter = min(time.Duration(secs)*time.Second, 5*time.Minute)
		} else if t, err := http.ParseTime(v); err == nil {
			se.RetryAfter = min(max(time.Until(t), 0), 5*time.Minute)
		}
	}
	return nil, se
}
