package e2e

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path"
	"testing"
	"time"

	"github.com/tusgate/tusgate/state"
	"github.com/tusgate/tusgate/state/redisstore"
)

// AwaitCommitted waits until the committed offset of the upload at
// uploadURL reaches at least n and returns it; check (if set) runs on every
// poll, so a caller can fail early when its request ended. An upload not in
// state yet (a creation still in flight) is waited for.
func AwaitCommitted(t testing.TB, st state.Store, uploadURL string, n int64, check func()) int64 {
	t.Helper()
	id := path.Base(uploadURL)
	var off int64
	Eventually(t, time.Minute, fmt.Sprintf("%d bytes of %s committed", n, id), func() bool {
		if check != nil {
			check()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		u, err := st.Get(ctx, id)
		if errors.Is(err, state.ErrNotFound) {
			return false
		}
		if err != nil {
			t.Fatalf("read state of %s: %v", id, err)
		}
		off = u.Offset
		return off >= n
	})
	return off
}

// StateReader opens the Redis state at redisURL for a test to read what
// gateways committed; it is closed when the test ends.
func StateReader(t testing.TB, redisURL string) state.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := redisstore.Open(ctx, redisURL, redisstore.Options{})
	if err != nil {
		t.Fatalf("open Redis state: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// PatchAlternating sends data to one upload in seeded random chunk sizes,
// seven in ten below partSize (tails between PATCHes) and the rest up to
// seven parts, each PATCH to the next of urls (the upload's URL on each
// replica), and after each asks the following replica by HEAD for the new
// offset. It returns how many PATCHes it sent.
func PatchAlternating(t testing.TB, urls []string, data []byte, partSize int, seed uint64) int {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed))
	size := int64(len(data))
	var offset int64
	n := 0
	for offset < size {
		chunk := int64(1 + rng.IntN(partSize-1))
		if rng.IntN(10) < 3 {
			chunk = int64(partSize + rng.IntN(6*partSize))
		}
		chunk = min(chunk, size-offset)
		to, other := urls[n%len(urls)], urls[(n+1)%len(urls)]
		if got := Patch(t, to, offset, data[offset:offset+chunk]); got != offset+chunk {
			t.Fatalf("PATCH %d at %d (%d bytes): offset %d", n, offset, chunk, got)
		}
		offset += chunk
		if seen := Offset(t, other); seen != offset {
			t.Fatalf("after PATCH %d the other replica says %d, want %d", n, seen, offset)
		}
		n++
	}
	return n
}

// PatchChunks sends data to url from offset 0 in PATCHes of chunk bytes
// (at least one byte each) and returns how many it sent.
func PatchChunks(t testing.TB, url string, data []byte, chunk int) int {
	t.Helper()
	n := 0
	for off := 0; off < len(data); off += max(chunk, 1) {
		end := min(off+max(chunk, 1), len(data))
		if got := Patch(t, url, int64(off), data[off:end]); got != int64(end) {
			t.Fatalf("PATCH at %d: offset %d, want %d", off, got, end)
		}
		n++
	}
	return n
}
