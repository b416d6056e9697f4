package s3e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"testing"

	"github.com/tusgate/tusgate/test/e2e"
)

// tusResponse is the outcome of a request, for checks beyond "it worked".
type tusResponse struct {
	status int
	header http.Header
	body   string
	err    error
}

// send sends a tus request without failing the test, so goroutines and
// tests expecting errors can use it.
func send(method, url string, header http.Header, body []byte) tusResponse {
	ctx, cancel := context.WithTimeout(context.Background(), e2e.RequestDeadline)
	defer cancel()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := e2e.NewRequest(ctx, method, url, r)
	if err != nil {
		return tusResponse{err: err}
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return tusResponse{err: err}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return tusResponse{status: res.StatusCode, header: res.Header, body: string(b), err: err}
}

func patchHeader(offset int64) http.Header {
	return http.Header{
		"Content-Type":  {"application/offset+octet-stream"},
		"Upload-Offset": {strconv.FormatInt(offset, 10)},
	}
}

// patch is e2e.Patch for goroutines: it returns an error instead of
// failing the test.
func patch(url string, offset int64, data []byte) (int64, error) {
	r := send(http.MethodPatch, url, patchHeader(offset), data)
	if r.err != nil {
		return 0, fmt.Errorf("PATCH %s at %d: %w", url, offset, r.err)
	}
	if r.status != http.StatusNoContent {
		return 0, fmt.Errorf("PATCH %s at %d (%d bytes): status %d, want 204: %s", url, offset, len(data), r.status, r.body)
	}
	n, err := strconv.ParseInt(r.header.Get("Upload-Offset"), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("PATCH %s: Upload-Offset %q", url, r.header.Get("Upload-Offset"))
	}
	return n, nil
}

// stream is a PATCH whose body the test feeds piece by piece through a
// pipe, so it can act while the request is in flight with a known amount
// of the body handed to the connection.
type stream struct {
	pw     *io.PipeWriter
	data   []byte
	sent   int64 // bytes handed to the transport
	result chan tusResponse
	ended  *tusResponse // set by failIfEnded/wait once the result is in
}

// startStream starts a PATCH of data at offset, announcing its full
// length, and sends nothing of the body yet.
func startStream(t *testing.T, url string, offset int64, data []byte) *stream {
	t.Helper()
	pr, pw := io.Pipe()
	ctx, cancel := context.WithTimeout(context.Background(), e2e.RequestDeadline)
	t.Cleanup(cancel)
	req, err := e2e.NewRequest(ctx, http.MethodPatch, url, pr)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(data))
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	req.Header.Set("Upload-Offset", strconv.FormatInt(offset, 10))
	s := &stream{pw: pw, data: data, result: make(chan tusResponse, 1)}
	t.Cleanup(func() { pw.CloseWithError(io.ErrUnexpectedEOF) })
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			s.result <- tusResponse{err: err}
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		s.result <- tusResponse{status: res.StatusCode, header: res.Header, body: string(b)}
	}()
	return s
}

// feed hands the next n bytes of the body to the transport (it returns
// once they are taken) and reports whether all went.
func (s *stream) feed(n int) error {
	end := min(int(s.sent)+n, len(s.data))
	k, err := s.pw.Write(s.data[s.sent:end])
	s.sent += int64(k)
	return err
}

// finish sends the rest of the body and ends it.
func (s *stream) finish() error {
	if err := s.feed(len(s.data)); err != nil {
		return err
	}
	return s.pw.Close()
}

// abort ends the body with an error: the client went away mid-request.
func (s *stream) abort() { s.pw.CloseWithError(io.ErrUnexpectedEOF) }

// wait returns the outcome of the request.
func (s *stream) wait(t *testing.T) tusResponse {
	t.Helper()
	if s.ended != nil {
		return *s.ended
	}
	r := <-s.result // the request's context bounds this
	s.ended = &r
	return r
}

// failIfEnded fails the test if the request has already ended: a test
// waiting for progress on the server would otherwise wait in vain.
func (s *stream) failIfEnded(t *testing.T) {
	t.Helper()
	if s.ended != nil {
		t.Fatalf("the PATCH ended early: status %d, err %v, body %q", s.ended.status, s.ended.err, s.ended.body)
	}
	select {
	case r := <-s.result:
		s.ended = &r
		t.Fatalf("the PATCH ended early: status %d, err %v, body %q", r.status, r.err, r.body)
	default:
	}
}

// parseInt reads a non-negative integer header value.
func parseInt(t *testing.T, v string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		t.Fatalf("%q is not a non-negative integer", v)
	}
	return n
}
