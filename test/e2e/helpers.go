package e2e

import (
	"context"
	"fmt"
	"path"
	"testing"
	"time"

	"github.com/tusgate/tusgate/state"
	"github.com/tusgate/tusgate/state/redisstore"
)

// AwaitCommitted waits until the committed offset of the upload at
// uploadURL reaches at least n and returns it; check (if set) runs on every
// poll, so a caller can fail early when its request ended.
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
