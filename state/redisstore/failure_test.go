package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/tusgate/tusgate/state"
	"github.com/tusgate/tusgate/state/redisstore"
	"github.com/tusgate/tusgate/test/testenv"
)

// returnsWithin runs op without any deadline of its own and fails the test
// if it hangs: "fail fast" means the client's own timeouts end it.
func returnsWithin(t *testing.T, what string, op func(context.Context) error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- op(context.Background()) }()
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		t.Fatalf("%s hung (no answer in 30s)", what)
		return nil
	}
}

func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}

func TestOpenUnreachable(t *testing.T) {
	t.Parallel()
	testenv.RedisURL(t) // an integration test: same skip/fail rule
	url := fmt.Sprintf("redis://127.0.0.1:%d/0", closedPort(t))
	err := returnsWithin(t, "Open", func(ctx context.Context) error {
		s, err := redisstore.Open(ctx, url, redisstore.Options{})
		if err == nil {
			_ = s.Close()
		}
		return err
	})
	if !errors.Is(err, state.ErrUnavailable) {
		t.Fatalf("open on a closed port: %v, want ErrUnavailable", err)
	}
}

// When Redis goes away, every operation fails with ErrUnavailable instead
// of hanging, and a held lease reports itself lost once it may have lapsed.
func TestOperationsFailFastWhenRedisDown(t *testing.T) {
	t.Parallel()
	srv := testenv.StartRedis(t)
	e := newEnv(t, srv.URL)
	s := e.open(t)
	ctx := ctxT(t)
	id := newID(t)
	l := createLocked(t, ctx, s, &state.Upload{ID: id, Length: 10})
	srv.Stop(t)

	ops := map[string]func(context.Context) error{
		"Ping":    s.Ping,
		"Get":     func(ctx context.Context) error { _, err := s.Get(ctx, id); return err },
		"Parts":   func(ctx context.Context) error { _, err := s.Parts(ctx, id); return err },
		"Create":  func(ctx context.Context) error { return s.Create(ctx, &state.Upload{ID: newID(t), Length: 1}) },
		"Commit":  func(ctx context.Context) error { return s.Commit(ctx, id, l.Token(), 0, state.Change{Offset: 1}) },
		"Delete":  func(ctx context.Context) error { return s.Delete(ctx, id, l.Token()) },
		"Expired": func(ctx context.Context) error { _, err := s.Expired(ctx, time.Now(), 10); return err },
		"Lock":    func(ctx context.Context) error { _, err := s.Lock(ctx, newID(t)); return err },
		"Unlock":  l.Unlock,
	}
	for name, op := range ops {
		if err := returnsWithin(t, name, op); !errors.Is(err, state.ErrUnavailable) {
			t.Errorf("%s with Redis down: %v, want ErrUnavailable", name, err)
		}
	}
}

func TestLeaseLostWhenRedisStaysDown(t *testing.T) {
	t.Parallel()
	srv := testenv.StartRedis(t)
	e := newEnv(t, srv.URL)
	s := e.open(t)
	ctx := ctxT(t)
	l, err := s.Lock(ctx, newID(t))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock(ctx)
	srv.Stop(t)
	waitClosed(t, l.Lost().Done(), "Lost while Redis is down")
}

// Records, manifests, locks and fencing survive a restart (AOF, fsync
// always), and the store carries on without reopening.
func TestRestartKeepsRecords(t *testing.T) {
	t.Parallel()
	srv := testenv.StartRedis(t)
	e := newEnv(t, srv.URL)
	s := e.open(t)
	ctx := ctxT(t)
	id := newID(t)
	exp := time.Now().Add(time.Hour)
	l := createLocked(t, ctx, s, &state.Upload{ID: id, Length: 10, Metadata: "k dg==", ExpiresAt: exp})
	if err := s.Commit(ctx, id, l.Token(), 0, state.Change{Offset: 4, Parts: []state.Part{{Number: 1, Size: 4, ETag: "x"}}}); err != nil {
		t.Fatal(err)
	}
	if err := l.Unlock(ctx); err != nil {
		t.Fatal(err)
	}

	srv.Restart(t)

	got, err := s.Get(ctx, id)
	if err != nil {
		t.Fatalf("get after restart: %v", err)
	}
	if got.Offset != 4 || got.Length != 10 || got.Metadata != "k dg==" || !got.ExpiresAt.Equal(exp) {
		t.Fatalf("record after restart: %+v", got)
	}
	parts, err := s.Parts(ctx, id)
	if err != nil || len(parts) != 1 || parts[0].ETag != "x" {
		t.Fatalf("parts after restart: %+v, %v", parts, err)
	}
	// The script cache is empty after a restart; the pipelined commit path
	// (expiry change) must still work, and tokens keep growing.
	l2, err := s.Lock(ctx, id)
	if err != nil {
		t.Fatalf("lock after restart: %v", err)
	}
	defer l2.Unlock(ctx)
	if l2.Token() <= l.Token() {
		t.Fatalf("token after restart %d, not above %d", l2.Token(), l.Token())
	}
	if err := s.Commit(ctx, id, l2.Token(), 4, state.Change{Offset: 10, ExpiresAt: ptr(exp.Add(time.Hour))}); err != nil {
		t.Fatalf("commit after restart: %v", err)
	}
	if err := s.Commit(ctx, id, l.Token(), 10, state.Change{Offset: 10}); !errors.Is(err, state.ErrFenced) {
		t.Fatalf("commit with pre-restart token: %v, want ErrFenced", err)
	}
}
