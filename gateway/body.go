package gateway

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/tusgate/tusgate/state"
)

// bodyReader wraps a request body so that a body can be ended on purpose
// (takeover by a newer request, lost lease, shutdown) even while a Read is
// blocked on a stalled client: interrupt sets a read deadline in the past.
// It also enforces the idle timeout and turns transport failures into
// gateway errors, so the backend sees "the body ended here" and stores what
// it got.
type bodyReader struct {
	r    io.Reader
	rc   *http.ResponseController
	h    http.Header
	idle time.Duration
	// rate is the slowest body accepted, averaged over windows of
	// rate.window; a zero rate.min disables the check.
	rate        minRate
	windowStart time.Time
	windowBytes int64
	// validUntil is the lease's deadline: bytes read after it are dropped,
	// because a process paused while its read blocked (GC, SIGSTOP) may
	// have lost the upload to another replica without knowing yet.
	validUntil func() time.Time

	mu       sync.Mutex
	reason   error
	failed   bool // a read failed: the connection must not be reused
	finished bool // done was called: the response is no longer ours
}

// minRate is the slowest transfer a body may keep up: at least min bytes per
// second over every window. The idle timeout alone cannot end a body that
// trickles a byte now and then, which pins a connection (slow-loris).
type minRate struct {
	min    int64
	window time.Duration
}

func newBodyReader(r io.Reader, w http.ResponseWriter, idle time.Duration, rate minRate, validUntil func() time.Time) *bodyReader {
	return &bodyReader{r: r, rc: http.NewResponseController(w), h: w.Header(), idle: idle, rate: rate,
		windowStart: time.Now(), validUntil: validUntil}
}

// tooSlow checks the transfer rate after a read of n bytes. Windows restart,
// so a slow start or a pause in an otherwise honest transfer is forgiven
// once the next window is fast enough.
func (b *bodyReader) tooSlow(n int) error {
	if b.rate.min <= 0 || b.rate.window <= 0 {
		return nil
	}
	b.windowBytes += int64(n)
	elapsed := time.Since(b.windowStart)
	if elapsed < b.rate.window {
		return nil
	}
	if need := int64(elapsed.Seconds() * float64(b.rate.min)); b.windowBytes < need {
		return protoErr(errTooSlow, "%d bytes in %s, below the minimum of %d bytes per second", b.windowBytes, elapsed.Round(time.Second), b.rate.min)
	}
	b.windowStart, b.windowBytes = time.Now(), 0
	return nil
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if err := b.interrupted(); err != nil {
		return 0, err
	}
	if b.idle > 0 {
		_ = b.rc.SetReadDeadline(time.Now().Add(b.idle))
	}
	n, err := b.r.Read(p)
	if n > 0 && !time.Now().Before(b.validUntil()) {
		b.interrupt(fmt.Errorf("%w: the lease ran out while the body was read", state.ErrFenced))
		n, err = 0, b.interrupted()
	}
	if err == nil {
		if slow := b.tooSlow(n); slow != nil {
			b.interrupt(slow)
			// The bytes of this read count; the next read fails.
			return n, nil
		}
	}
	if err == nil || err == io.EOF {
		return n, err
	}
	b.mu.Lock()
	b.failed = true
	b.mu.Unlock()
	if reason := b.interrupted(); reason != nil {
		return n, reason
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return n, protoErr(errReadTimeout, "no data for %s", b.idle)
	}
	return n, &protoError{sentinel: errClientGone, cause: err}
}

func (b *bodyReader) interrupted() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.reason
}

// interrupt ends the body with reason at the next (or the blocked) Read.
// After done it does nothing: the server may have recycled the response.
func (b *bodyReader) interrupt(reason error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finished {
		return
	}
	if b.reason == nil {
		b.reason = reason
	}
	_ = b.rc.SetReadDeadline(time.Now())
}

// done clears the deadline so a kept-alive connection can serve the next
// request. A body that was cut or failed closes the connection instead:
// net/http cancels the context of the connection, and so of every later
// request on it, when a read fails (our past deadline included, even one
// hitting its background read after the body's end), and unread body
// bytes may still be on the wire.
func (b *bodyReader) done() {
	b.mu.Lock()
	b.finished = true
	cut := b.failed || b.reason != nil
	b.mu.Unlock()
	if cut {
		// Reads keep failing, so net/http closes at once instead of
		// waiting for the rest of a stalled body.
		b.h.Set("Connection", "close")
		_ = b.rc.SetReadDeadline(time.Now())
		return
	}
	_ = b.rc.SetReadDeadline(time.Time{})
}

// limitedBody yields at most n bytes; if the client sends more, it fails with
// errTooLarge once the n bytes are consumed, so exactly the allowed bytes are
// stored before the 413 (the body length is not trusted from headers).
type limitedBody struct {
	r io.Reader
	n int64
}

func (l *limitedBody) Read(p []byte) (int, error) {
	if l.n <= 0 {
		var probe [1]byte
		k, err := l.r.Read(probe[:])
		if k > 0 {
			return 0, protoErr(errTooLarge, "the body is longer than the upload's remaining length")
		}
		return 0, err
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}
