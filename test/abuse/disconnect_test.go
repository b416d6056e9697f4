package abuse

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tusgate/tusgate/test/e2e"
)

// Sweeping flags for the disconnect tests: unfinished uploads expire fast.
var sweepFast = []string{"--expiration", "2s", "--sweep-interval", "500ms"}

// postBurst opens n connections and closes them all at once right after
// sending a POST on each: n clients that vanish mid-creation, at whatever
// step the server has reached with each. Half are creation-with-upload
// POSTs that announce 100000 bytes but carry only 1000; half are plain
// creations of 100000 bytes. The plain ones matter: Go cancels a request's
// context on a disconnect only once its body has been read, so it is they
// whose creation runs on a context the client cancels midway. postBurst
// returns once the server has answered (counted) every POST.
func postBurst(t *testing.T, p *e2e.Proc, n int) {
	t.Helper()
	posts := func() float64 { return sample(t, scrape(t, p), "tusgate_http_requests_total", `method="POST"`) }
	before := posts()
	withBody := request(http.MethodPost, basePath(t, p), p.Addr,
		"Upload-Length: 100000", "Content-Type: "+offsetStream, "Content-Length: 100000") + strings.Repeat("x", 1000)
	plain := request(http.MethodPost, basePath(t, p), p.Addr, "Upload-Length: 100000")
	conns := make([]*rawConn, n)
	for i := range conns {
		conns[i] = dialRaw(t, p.Addr)
	}
	for i, c := range conns {
		if i%2 == 0 {
			c.write([]byte(withBody))
		} else {
			c.write([]byte(plain))
		}
	}
	for _, c := range conns {
		_ = c.Close()
	}
	e2e.Eventually(t, deadline, fmt.Sprintf("the server to be done with %d abandoned POSTs", n), func() bool {
		return posts() >= before+float64(n)
	})
}

// TestAbuse02PostDisconnectLeavesNothingUnreachable abandons 200 POSTs
// (see postBurst). On files and bbolt, once the server is done with
// them every data file has a record (creation is record-first), and with a
// short expiration the sweeper removes every file and record. On S3 and
// Redis the bucket prefix ends with no object and no multipart upload, and
// the database with no record.
func TestAbuse02PostDisconnectLeavesNothingUnreachable(t *testing.T) {
	t.Parallel()
	t.Run("files and bbolt: every file has a record", func(t *testing.T) {
		f := startFile(t) // default expiration: nothing is swept meanwhile
		postBurst(t, f.p, 200)
		f.stop(t) // waits for the handlers of the closed requests
		files, recs := f.dataFiles(t), f.records(t)
		t.Logf("after 200 abandoned POSTs: %d data files, %d records", len(files), len(recs))
		var orphans []string
		for _, id := range files {
			if !slices.Contains(recs, id) {
				orphans = append(orphans, id)
			}
		}
		if len(orphans) > 0 {
			t.Errorf("%d data files have no record, so nothing can ever remove them: %v", len(orphans), head(orphans))
		}
	})
	t.Run("files and bbolt: the sweeper removes everything", func(t *testing.T) {
		f := startFile(t, sweepFast...)
		postBurst(t, f.p, 200)
		f.awaitEmpty(t)
	})
	t.Run("S3 and Redis", func(t *testing.T) {
		e := newS3Env(t, 11)
		p := e.start(t, sweepFast...)
		postBurst(t, p, 200)
		e.awaitEmpty(t, p)
	})
}

// resetDeletes sends DELETE for every upload, each on its own connection,
// and resets each connection right after writing the request.
func resetDeletes(t *testing.T, p *e2e.Proc, uploads []string) {
	t.Helper()
	var wg sync.WaitGroup
	for _, u := range uploads {
		c := dialRaw(t, p.Addr)
		wg.Go(func() {
			// No t.Fatal off the test goroutine: a failed write is one
			// more way for the client to vanish.
			_ = c.tryWrite([]byte(request(http.MethodDelete, basePath(t, p)+idOf(u), p.Addr)))
			c.reset()
		})
	}
	wg.Wait()
}

// expectAllGone waits until HEAD of every upload answers 404 (or 410) and
// checks that GET does too, so no GET promises a body it cannot send. What
// is left after the deadline is described: a record whose bytes are gone
// shows as a GET whose body ends short of its Content-Length.
func expectAllGone(t *testing.T, uploads []string) {
	t.Helper()
	var left []string
	headStatus := map[string]int{}
	for end := time.Now().Add(deadline); ; time.Sleep(100 * time.Millisecond) {
		left = left[:0]
		for _, u := range uploads {
			if s := e2e.Head(t, u).StatusCode; !gone(s) {
				left = append(left, u)
				headStatus[u] = s
			}
		}
		if len(left) == 0 || time.Now().After(end) {
			break
		}
	}
	for _, u := range head(left) {
		g := download(t, u)
		t.Errorf("%s after its reset DELETE: HEAD status %d, GET status %d with %d body bytes of Content-Length %q (%v); want 404 for both",
			u, headStatus[u], g.status, len(g.body), g.header.Get("Content-Length"), g.err)
	}
	if len(left) > 0 {
		t.Fatalf("%d of %d uploads still there %s after their reset DELETEs", len(left), len(uploads), deadline)
	}
	for _, u := range uploads {
		if g := download(t, u); !gone(g.status) {
			t.Errorf("GET %s after its DELETE: status %d with %d body bytes (Content-Length %q, %v), want 404",
				u, g.status, len(g.body), g.header.Get("Content-Length"), g.err)
		}
	}
}

// fetched is a GET whose body may end early.
type fetched struct {
	result
	err error // from reading the body
}

// download GETs url and reads what body arrives.
func download(t *testing.T, url string) fetched {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), e2e.RequestDeadline)
	defer cancel()
	req, err := e2e.NewRequest(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	res := e2e.Do(t, req)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return fetched{result{status: res.StatusCode, header: res.Header, body: string(b)}, err}
}

// TestAbuse03InterruptedDeleteRemovesEverything deletes finished uploads
// with DELETEs whose connections are reset right after the request is
// written. Afterwards every upload answers HEAD and GET with 404 and no
// bytes are left: 200 uploads on files and bbolt, 30 on S3 and Redis.
func TestAbuse03InterruptedDeleteRemovesEverything(t *testing.T) {
	t.Parallel()
	t.Run("files and bbolt", func(t *testing.T) {
		f := startFile(t, "--sweep-interval", "500ms")
		var uploads []string
		for range 200 {
			uploads = append(uploads, create(t, f.p.URL, []byte("abc")))
		}
		if n := len(f.dataFiles(t)); n != 200 {
			t.Fatalf("%d data files for 200 finished uploads", n)
		}
		resetDeletes(t, f.p, uploads)
		expectAllGone(t, uploads)
		f.awaitEmpty(t)
	})
	t.Run("S3 and Redis", func(t *testing.T) {
		e := newS3Env(t, 12)
		p := e.start(t, "--sweep-interval", "500ms")
		var uploads []string
		for range 30 {
			uploads = append(uploads, create(t, p.URL, []byte("abc")))
		}
		if n := len(e.objects(t)); n == 0 {
			t.Fatalf("no object in the bucket for 30 finished uploads")
		}
		resetDeletes(t, p, uploads)
		expectAllGone(t, uploads)
		e.awaitEmpty(t, p)
	})
}
