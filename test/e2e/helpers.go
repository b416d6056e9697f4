package e2e

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path"
	"testing"
	"time"

	"github.com/tusgate/tusgate/state"
	"github.com/tusgate/tusgate/state/redisstore"
)

// SourceData returns size deterministic pseudo-random bytes for seed.
func SourceData(size int, seed uint64) []byte {
	var key [32]byte
	for i := range 8 {
		key[i] = byte(seed >> (8 * i))
	}
	b := make([]byte, size)
	_, _ = mrand.NewChaCha8(key).Read(b) // never fails
	return b
}

// FreePort returns a loopback port nothing listens on right now.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

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

// RunService runs a scripts/services script (start or stop) for a private
// instance in dir, with env added.
func RunService(t testing.TB, script, cmd, dir string, env []string) {
	t.Helper()
	c := exec.Command("bash", script, cmd, dir)
	c.Env = append(os.Environ(), env...)
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", path.Base(script), cmd, err, out)
	}
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
