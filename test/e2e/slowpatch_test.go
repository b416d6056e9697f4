package e2e

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

const MiB = 1 << 20

// sourceData returns size deterministic pseudo-random bytes for seed.
func sourceData(size int, seed byte) []byte {
	var key [32]byte
	key[0] = seed
	b := make([]byte, size)
	_, _ = rand.NewChaCha8(key).Read(b) // never fails
	return b
}

// fileArgs points the store and the state at dir (files/ and state/).
func fileArgs(dir string) []string {
	return []string{
		"--store", "file://" + filepath.Join(dir, "files"),
		"--state", "bolt://" + filepath.Join(dir, "state", "tusgate.db"),
	}
}

// slowPatch is a PATCH whose body a client feeds through an io.Pipe in
// chunks, like a client on a slow link, so a test can act while the request
// is in flight.
type slowPatch struct {
	pw      *io.PipeWriter
	written atomic.Int64
	pause   chan struct{} // closed: stop feeding but keep the body open
	fed     chan struct{} // closed when the feeder has returned
	result  chan patchResult
}

type patchResult struct {
	status int
	header http.Header
	body   string
	err    error
}

const (
	feedChunk = 256 << 10
	feedPace  = time.Millisecond
)

func startSlowPatch(t *testing.T, url string, offset int64, data []byte) *slowPatch {
	t.Helper()
	pr, pw := io.Pipe()
	ctx, cancel := context.WithTimeout(context.Background(), RequestDeadline)
	t.Cleanup(cancel)
	req, err := NewRequest(ctx, http.MethodPatch, url, pr)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(data)) // as real clients send it
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	req.Header.Set("Upload-Offset", strconv.FormatInt(offset, 10))

	sp := &slowPatch{pw: pw, pause: make(chan struct{}), fed: make(chan struct{}), result: make(chan patchResult, 1)}
	t.Cleanup(func() { pw.CloseWithError(io.ErrUnexpectedEOF) })
	go func() {
		defer close(sp.fed)
		for off := 0; off < len(data); {
			select {
			case <-sp.pause:
				return
			default:
			}
			// A Write cut short by a closed pipe still handed n bytes to
			// the transport; count them, or a test could call a correct
			// offset too high.
			n, err := pw.Write(data[off:min(off+feedChunk, len(data))])
			off += n
			sp.written.Add(int64(n))
			if err != nil {
				return
			}
			time.Sleep(feedPace)
		}
		_ = pw.Close()
	}()
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			sp.result <- patchResult{err: err}
			return
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		sp.result <- patchResult{status: res.StatusCode, header: res.Header, body: string(body)}
	}()
	return sp
}

// stopFeeding stops writing into the body without ending it and waits
// until the feeder is idle, so no write races what the test does next.
func (sp *slowPatch) stopFeeding() {
	close(sp.pause)
	<-sp.fed
}

// abort ends the body with an error (the client's connection is gone).
func (sp *slowPatch) abort() {
	sp.pw.CloseWithError(io.ErrUnexpectedEOF)
	<-sp.fed
}

// wait returns the outcome of the request.
func (sp *slowPatch) wait(t *testing.T) patchResult {
	t.Helper()
	select {
	case r := <-sp.result:
		return r
	case <-time.After(RequestDeadline):
		t.Fatalf("the PATCH did not end within %s", RequestDeadline)
		return patchResult{}
	}
}

// awaitStored waits until the server has written at least n bytes under
// dir, failing at once if the PATCH ends first.
func (sp *slowPatch) awaitStored(t *testing.T, dir string, n int64) {
	t.Helper()
	Eventually(t, time.Minute, strconv.FormatInt(n/MiB, 10)+" MiB to reach the server's files", func() bool {
		select {
		case r := <-sp.result:
			t.Fatalf("the PATCH ended before the server stored %d bytes: status %d, err %v, body %q", n, r.status, r.err, r.body)
		default:
		}
		return StoredBytes(t, dir) >= n
	})
}

func parseOffset(t *testing.T, v string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		t.Fatalf("Upload-Offset %q is not a non-negative integer", v)
	}
	return n
}
