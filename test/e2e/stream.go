package e2e

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// Stream is a PATCH whose body the test feeds: it sends its first bytes at
// once and then stays open, as a client on a stalled link, until the server
// answers or the test ends.
type Stream struct {
	pw   *io.PipeWriter
	done chan StreamResult
	// first is closed once the first bytes were all read from the pipe.
	first chan struct{}
}

// StreamResult is the server's answer to a Stream.
type StreamResult struct {
	Status int
	Header http.Header
	Body   string
	Err    error
}

// StartStream begins a PATCH of url at offset whose body starts with first.
func StartStream(t testing.TB, url string, offset int64, first []byte) *Stream {
	t.Helper()
	pr, pw := io.Pipe()
	req, err := NewRequest(context.Background(), http.MethodPatch, url, pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	req.Header.Set("Upload-Offset", strconv.FormatInt(offset, 10))
	s := &Stream{pw: pw, done: make(chan StreamResult, 1), first: make(chan struct{})}
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			s.done <- StreamResult{Err: err}
			return
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		s.done <- StreamResult{Status: res.StatusCode, Header: res.Header, Body: string(body)}
	}()
	go func() {
		defer close(s.first)
		_, _ = io.Copy(pw, bytes.NewReader(first))
	}()
	t.Cleanup(func() { _ = pw.CloseWithError(io.ErrUnexpectedEOF) })
	return s
}

// Send writes more of the body; it returns once the client has taken it,
// or with an error when the server has answered already (the client then
// closes the body).
func (s *Stream) Send(p []byte) error {
	_, err := s.pw.Write(p)
	return err
}

// End closes the body once the first bytes were all read, so a PATCH that
// waits (for a buffer, a lock) before reading is not cut short.
func (s *Stream) End() {
	<-s.first
	_ = s.pw.Close()
}

// Abort ends the body with an error: the client went away mid-request.
func (s *Stream) Abort() { _ = s.pw.CloseWithError(io.ErrUnexpectedEOF) }

// Ended reports whether the server has answered (or the request failed).
func (s *Stream) Ended() bool {
	select {
	case r := <-s.done:
		s.done <- r
		return true
	default:
		return false
	}
}

// Wait returns the server's answer, failing the test after within; it may
// be called again.
func (s *Stream) Wait(t testing.TB, within time.Duration) StreamResult {
	t.Helper()
	select {
	case r := <-s.done:
		s.done <- r // for a later Wait or Ended
		return r
	case <-time.After(within):
		t.Fatalf("the streaming PATCH got no answer within %s", within)
		return StreamResult{}
	}
}
