package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tusgate/tusgate/state"
	"github.com/tusgate/tusgate/state/redisstore"
	"github.com/tusgate/tusgate/test/statetest"
	"github.com/tusgate/tusgate/test/testenv"
)

// testLease is short so lapses and renewals happen within a test, yet long
// enough that a loaded machine under -race renews in time (every TTL/3).
const testLease = 3 * time.Second

// env is one test's view of the shared Redis: a unique key prefix, so tests
// never see each other's keys, and a raw client to inspect or break things.
type env struct {
	url    string
	prefix string
	raw    redis.UniversalClient
}

func uniquePrefix(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "tgtest-" + hex.EncodeToString(b)
}

// newEnv works on a standalone server shared with other tests, and removes
// its keys at the end.
func newEnv(t *testing.T, url string) *env {
	t.Helper()
	o, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	raw := redis.NewClient(o)
	e := &env{url: url, prefix: uniquePrefix(t), raw: raw}
	t.Cleanup(func() {
		// Test cleanup only: the store itself never scans the keyspace.
		ctx := context.Background()
		iter := raw.Scan(ctx, 0, e.prefix+":*", 500).Iterator()
		for iter.Next(ctx) {
			raw.Del(ctx, iter.Val())
		}
		_ = raw.Close()
	})
	return e
}

// newTopologyEnv works on a private Sentinel or Cluster deployment, which
// is thrown away with its keys after the test.
func newTopologyEnv(t *testing.T, topo testenv.RedisTopology) *env {
	t.Helper()
	var raw redis.UniversalClient
	if len(topo.Addrs) > 1 {
		raw = redis.NewClusterClient(&redis.ClusterOptions{Addrs: topo.Addrs})
	} else {
		raw = redis.NewClient(&redis.Options{Addr: topo.Addrs[0]})
	}
	t.Cleanup(func() { _ = raw.Close() })
	return &env{url: topo.URL, prefix: uniquePrefix(t), raw: raw}
}

// doomedLease is far longer than any wait of the suites: a dead holder's
// upload can only be taken over by breaking its lease.
const doomedLease = 10 * time.Minute

// open returns a new Store (its own client) on the env's prefix.
func (e *env) open(t *testing.T) *redisstore.Store {
	t.Helper()
	return e.openWith(t, redisstore.Options{LeaseTTL: testLease})
}

// openWith is open with other options; the prefix is always the env's.
func (e *env) openWith(t *testing.T, o redisstore.Options) *redisstore.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	o.Prefix = e.prefix
	s, err := redisstore.Open(ctx, e.url, o)
	if err != nil {
		t.Fatalf("open %s: %v", e.url, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func (e *env) key(id, suffix string) string { return e.prefix + ":{" + id + "}:" + suffix }

// expire deletes the lock key: exactly what Redis does when the TTL lapses.
func (e *env) expire(t *testing.T, id string) {
	t.Helper()
	if err := e.raw.Del(context.Background(), e.key(id, "l")).Err(); err != nil {
		t.Fatalf("expire lease on %s: %v", id, err)
	}
}

// harness builds the conformance harness; Peer and Expire act on the
// database of the most recent New, which newEnv makes.
func harness(newEnv func(t *testing.T) *env) statetest.Harness {
	var mu sync.Mutex
	var last *env
	current := func(t *testing.T) *env {
		mu.Lock()
		defer mu.Unlock()
		if last == nil {
			t.Fatal("harness: Peer/Expire called before New")
		}
		return last
	}
	return statetest.Harness{
		New: func(t *testing.T) (state.Store, state.Locker) {
			e := newEnv(t)
			mu.Lock()
			last = e
			mu.Unlock()
			s := e.open(t)
			return s, s
		},
		Peer: func(t *testing.T) (state.Store, state.Locker) {
			s := current(t).open(t)
			return s, s
		},
		Expire: func(t *testing.T, id string) { current(t).expire(t, id) },
		Doomed: func(t *testing.T) (state.Store, state.Locker, func()) {
			s := current(t).openWith(t, redisstore.Options{LeaseTTL: doomedLease})
			return s, s, func() { _ = redisstore.Crash(s) }
		},
	}
}

func newID(t *testing.T) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// createLocked creates u in s and takes its lease; the caller unlocks.
func createLocked(t *testing.T, ctx context.Context, s *redisstore.Store, u *state.Upload) state.Lease {
	t.Helper()
	if err := s.Create(ctx, u); err != nil {
		t.Fatalf("create %s: %v", u.ID, err)
	}
	l, err := s.Lock(ctx, u.ID)
	if err != nil {
		t.Fatalf("lock %s: %v", u.ID, err)
	}
	return l
}
