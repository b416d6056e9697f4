package replica

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tusgate/tusgate/test/e2e"
)

// stream is a PATCH whose body the client feeds through an io.Pipe, like a
// client on a slow link, so a test can act while the request is in flight.
// The feeder sends only up to an allowance; at the allowance it stalls with
// the body still open, as a client whose connection hangs.
type stream struct {
	pw   *io.PipeWriter
	data []byte
	pace time.Duration
	sent atomic.Int64

	allow int64         // the feeder stalls here with the body open
	more  chan struct{} // closed by sendRest: stall no longer

	moreOnce sync.Once
	quitOnce sync.Once
	quit     chan struct{} // closed by abort
	fed      chan struct{} // closed when the feeder has returned

	start  time.Time
	result chan outcome
}

// outcome is how a streamed PATCH ended: a response, or a transport error.
type outcome struct {
	status int
	header http.Header
	body   string
	err    error
	took   time.Duration
}

const streamChunk = 64 << 10

var errClientAborted = errors.New("test client aborted the body")

// startStream sends data as a PATCH at offset to u, pausing pace between
// chunks of 64 KiB, and stalls once allow bytes are sent (allow >= len(data):
// send everything and end the body). The request's Content-Length is
// len(data), as real clients send it.
func startStream(t *testing.T, u string, offset int64, data []byte, allow int64, pace time.Duration) *stream {
	t.Helper()
	pr, pw := io.Pipe()
	ctx, cancel := context.WithTimeout(context.Background(), e2e.RequestDeadline)
	t.Cleanup(cancel)
	req, err := e2e.NewRequest(ctx, http.MethodPatch, u, pr)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(data))
	for k, vs := range patchHeader(offset) {
		req.Header[k] = vs
	}
	s := &stream{
		pw: pw, data: data, pace: pace, allow: allow,
		more: make(chan struct{}), quit: make(chan struct{}), fed: make(chan struct{}),
		start: time.Now(), result: make(chan outcome, 1),
	}
	t.Cleanup(s.abort)
	go s.feed()
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			s.result <- outcome{err: err, took: time.Since(s.start)}
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		s.result <- outcome{status: res.StatusCode, header: res.Header, body: string(b), took: time.Since(s.start)}
	}()
	return s
}

func (s *stream) feed() {
	defer close(s.fed)
	off, lim := int64(0), min(s.allow, int64(len(s.data)))
	for off < int64(len(s.data)) {
		if off >= lim {
			select { // stalled, with the body open
			case <-s.more:
				lim = int64(len(s.data))
				continue
			case <-s.quit:
				return
			}
		}
		// A Write cut short by a closed pipe still handed n bytes to the
		// transport; count them, or a test could call a correct offset
		// too high.
		n, err := s.pw.Write(s.data[off:min(off+streamChunk, lim)])
		off += int64(n)
		s.sent.Store(off)
		if err != nil {
			return
		}
		select {
		case <-s.quit:
			return
		case <-time.After(s.pace):
		}
	}
	_ = s.pw.Close()
}

// sendRest ends a stall: the feeder goes on to the end of the data.
func (s *stream) sendRest() { s.moreOnce.Do(func() { close(s.more) }) }

// abort ends the body with an error (the client's connection is gone) and
// waits until the feeder is idle. Safe to call more than once.
func (s *stream) abort() {
	s.quitOnce.Do(func() { close(s.quit) })
	s.pw.CloseWithError(errClientAborted)
	<-s.fed
}

// awaitSent waits until the client has handed n bytes to the transport.
func (s *stream) awaitSent(t *testing.T, n int64) {
	t.Helper()
	e2e.Eventually(t, eventDeadline, "the client to send "+mib(n), func() bool {
		s.failIfEnded(t)
		return s.sent.Load() >= n
	})
}

// awaitStored waits until the server has written at least n bytes to file
// (the file backend writes as it reads, so it has read them too).
func (s *stream) awaitStored(t *testing.T, file string, n int64) {
	t.Helper()
	e2e.Eventually(t, eventDeadline, mib(n)+" to reach the server's file", func() bool {
		s.failIfEnded(t)
		fi, err := os.Stat(file)
		return err == nil && fi.Size() >= n
	})
}

func (s *stream) failIfEnded(t *testing.T) {
	t.Helper()
	select {
	case r := <-s.result:
		s.result <- r
		t.Fatalf("the PATCH ended early: status %d, err %v, body %q", r.status, r.err, r.body)
	default:
	}
}

// wait returns the outcome of the request.
func (s *stream) wait(t *testing.T) outcome {
	t.Helper()
	select {
	case r := <-s.result:
		s.result <- r
		return r
	case <-time.After(e2e.RequestDeadline):
		t.Fatalf("the PATCH did not end within %s", e2e.RequestDeadline)
		return outcome{}
	}
}

// offset is the Upload-Offset of a response outcome; -1 when absent.
func (o outcome) offset(t *testing.T) int64 {
	t.Helper()
	if o.err != nil {
		return -1
	}
	return uploadOffset(t, o.header)
}
