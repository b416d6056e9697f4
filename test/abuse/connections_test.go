package abuse

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/tusgate/tusgate/test/e2e"
)

// TestAbuse05ConnectionsAreCut checks that a connection cannot be held
// forever: an idle keep-alive connection, a download nobody reads and an
// upload trickling below --min-upload-rate are all ended, and with
// --max-connections the process keeps its file descriptors bounded while
// still answering once the idle connections are cut.
func TestAbuse05ConnectionsAreCut(t *testing.T) {
	t.Parallel()
	f := startFile(t, "--keepalive-timeout", "2s", "--write-timeout", "2s", "--min-upload-rate", "1KiB", "--rate-window", "3s")
	p := f.p
	// The server closes a pooled connection of the test's own client after
	// 2 s idle; a POST (which net/http does not retry) reusing it just then
	// fails with EOF. Each case starts with fresh connections.
	fresh := http.DefaultClient.CloseIdleConnections

	t.Run("idle keep-alive connection", func(t *testing.T) {
		u := create(t, p.URL, []byte("abc"))
		c := dialRaw(t, p.Addr)
		c.write([]byte(request(http.MethodHead, basePath(t, p)+idOf(u), p.Addr)))
		if r := c.response(http.MethodHead); r.status != http.StatusOK {
			t.Fatalf("HEAD: status %d, want 200", r.status)
		}
		if n := c.awaitClosed("idle after one HEAD"); n != 0 {
			t.Errorf("%d unexpected bytes before the server closed the idle connection", n)
		}
	})

	t.Run("download whose client reads nothing", func(t *testing.T) {
		fresh()
		const size = 64 * MiB
		u := e2e.Create(t, p.URL, size, nil)
		data := make([]byte, size)
		if got := e2e.Patch(t, u, 0, data); got != size {
			t.Fatalf("PATCH: offset %d, want %d", got, size)
		}
		c := dialSmallWindow(t, p.Addr, 4*KiB)
		c.write([]byte(request(http.MethodGet, basePath(t, p)+idOf(u), p.Addr)))
		if !established(t, c.RemoteAddr(), c.LocalAddr()) {
			t.Fatalf("the server's side of %v is not in /proc/net/tcp as ESTABLISHED", c.LocalAddr())
		}
		// Read nothing; the server's side of the connection must go.
		e2e.Eventually(t, deadline, "the server to close the stalled download", func() bool {
			return !established(t, c.RemoteAddr(), c.LocalAddr())
		})
		if n := c.awaitClosed("stalled download"); n >= size {
			t.Errorf("read %d bytes after the cut, want fewer than the %d of the upload", n, size)
		}
	})

	t.Run("PATCH trickling a byte every 500ms", func(t *testing.T) {
		fresh()
		u := e2e.Create(t, p.URL, 1000, nil)
		c := dialRaw(t, p.Addr)
		c.write([]byte(request(http.MethodPatch, basePath(t, p)+idOf(u), p.Addr,
			"Content-Type: "+offsetStream, "Upload-Offset: 0", "Content-Length: 1000")))
		type outcome struct {
			r   result
			err error
		}
		done := make(chan outcome, 1)
		go func() {
			r, err := c.tryResponse(http.MethodPatch)
			done <- outcome{r, err}
		}()
		var got outcome
		sent := 0
	trickle:
		for range 120 { // at most a minute
			select {
			case got = <-done:
				break trickle
			case <-time.After(500 * time.Millisecond):
			}
			if c.tryWrite([]byte("x")) != nil {
				got = <-done
				break
			}
			sent++
		}
		if sent == 120 {
			t.Fatalf("the PATCH was still open after %d trickled bytes", sent)
		}
		if got.err == nil && got.r.status != http.StatusRequestTimeout {
			t.Errorf("trickling PATCH: status %d, want 408 (or the connection closed): %s", got.r.status, got.r.body)
		}
		t.Logf("trickled %d bytes; response %d, err %v", sent, got.r.status, got.err)
		e2e.Eventually(t, deadline, "the trickled bytes to be stored", func() bool { return e2e.Offset(t, u) > 0 })
	})

	t.Run("--max-connections 20 with 60 idle connections", func(t *testing.T) {
		fresh()
		const limit = 20
		g := startFile(t, "--max-connections", "20", "--keepalive-timeout", "2s")
		u := create(t, g.p.URL, []byte("abc"))
		headReq := []byte(request(http.MethodHead, basePath(t, g.p)+idOf(u), g.p.Addr))
		baseline := openFDs(t, g.p.PID())

		// Sample the descriptors until the test is done.
		stop := make(chan struct{})
		var mu sync.Mutex
		maxFDs := baseline
		var sampler sync.WaitGroup
		sampler.Go(func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
				if n := countFDs(g.p.PID()); n > 0 {
					mu.Lock()
					maxFDs = max(maxFDs, n)
					mu.Unlock()
				}
			}
		})
		defer func() { close(stop); sampler.Wait() }()

		idle := make([]*rawConn, 60)
		for i := range idle {
			idle[i] = dialRaw(t, g.p.Addr)
			idle[i].write(headReq)
		}
		fresh := dialRaw(t, g.p.Addr)
		fresh.write(headReq)
		if r := fresh.response(http.MethodHead); r.status != http.StatusOK {
			t.Errorf("HEAD on a fresh connection behind 60 idle ones: status %d, want 200", r.status)
		}
		// Every idle connection was answered in turn and then cut.
		for i, c := range idle {
			if r := c.response(http.MethodHead); r.status != http.StatusOK {
				t.Errorf("idle connection %d: status %d, want 200", i, r.status)
			}
			c.awaitClosed("idle connection")
		}
		mu.Lock()
		defer mu.Unlock()
		t.Logf("open descriptors: %d before, at most %d with 61 clients", baseline, maxFDs)
		if maxFDs > limit+40 {
			t.Errorf("the process had %d descriptors open with --max-connections %d, want at most %d", maxFDs, limit, limit+40)
		}
	})
}
