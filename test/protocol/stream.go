package protocol

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// stream is a PATCH whose body is an io.Pipe the test keeps open, to model a
// client that stalls or hangs mid-body.
type stream struct {
	w    *io.PipeWriter
	done chan result
}

type result struct {
	r   *resp
	err error
}

// startPatch sends a chunked PATCH at offset whose body the test feeds
// through st.w; the response arrives on st.done.
func (sv *server) startPatch(t testing.TB, url string, offset int64, kv ...string) *stream {
	t.Helper()
	pr, pw := io.Pipe()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPatch, sv.url(url), pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = tus(append([]string{"Content-Type", offsetOctet, "Upload-Offset", strconv.FormatInt(offset, 10)}, kv...)...)
	st := &stream{w: pw, done: make(chan result, 1)}
	t.Cleanup(func() { _ = pw.CloseWithError(io.ErrClosedPipe) })
	go func() {
		r, err := sv.exchange(req)
		st.done <- result{r: r, err: err}
	}()
	return st
}

// write feeds p into the body and returns once the client has written it to
// the socket: the empty write meets the transport's next Read, which comes
// only after it wrote and flushed (chunked) what the previous Reads returned.
// A takeover the test triggers next then never races the client's own write.
func (st *stream) write(t testing.TB, p []byte) {
	t.Helper()
	if _, err := st.w.Write(p); err != nil {
		t.Fatalf("write PATCH body: %v", err)
	}
	if _, err := st.w.Write(nil); err != nil {
		t.Fatalf("write PATCH body: %v", err)
	}
}

// wait returns the response, failing if none comes within a generous
// deadline while the body is still open.
func (st *stream) wait(t testing.TB) *resp {
	t.Helper()
	select {
	case res := <-st.done:
		if res.err != nil {
			t.Fatalf("streamed PATCH: %v", res.err)
		}
		checkCommon(t, res.r)
		return res.r
	case <-time.After(15 * time.Second):
		t.Fatal("the streamed PATCH got no response while its body stayed open")
		return nil
	}
}

// rawConn is a hand-driven HTTP/1.1 connection, for what net/http clients
// will not do: cut a body short, send header whitespace verbatim, watch for
// 100 Continue.
type rawConn struct {
	c  net.Conn
	br *bufio.Reader
}

func (sv *server) dial(t testing.TB) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", sv.srv.Listener.Addr().String())
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	return &rawConn{c: c, br: bufio.NewReader(c)}
}

// writeRequest sends the request line and header lines exactly as given.
func (rc *rawConn) writeRequest(t testing.TB, method, path string, lines ...string) {
	t.Helper()
	msg := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: %s\r\n", method, path, rc.c.RemoteAddr())
	for _, l := range lines {
		msg += l + "\r\n"
	}
	msg += "\r\n"
	rc.write(t, []byte(msg))
}

func (rc *rawConn) write(t testing.TB, p []byte) {
	t.Helper()
	if _, err := rc.c.Write(p); err != nil {
		t.Fatalf("raw write: %v", err)
	}
}

// readResponse reads one response (a 1xx included) for a request of method.
func (rc *rawConn) readResponse(t testing.TB, method string) *resp {
	t.Helper()
	res, err := http.ReadResponse(rc.br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("raw read response: %v", err)
	}
	defer res.Body.Close()
	var body []byte
	if res.StatusCode >= 200 {
		if body, err = io.ReadAll(res.Body); err != nil {
			t.Fatalf("raw read body: %v", err)
		}
	}
	r := &resp{method: method, url: "raw", status: res.StatusCode, header: res.Header, body: body}
	if res.StatusCode >= 200 {
		checkCommon(t, r)
	}
	return r
}
