package redisstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tusgate/tusgate/state"
	"github.com/tusgate/tusgate/state/redisstore"
	"github.com/tusgate/tusgate/test/testenv"
)

// waitClosed waits, with a generous deadline, for ch to close.
func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s: not closed within 20s", what)
	}
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// Two replicas (separate clients) contend: the waiter's request reaches the
// holder, which lets go; the waiter then gets a larger token.
func TestTwoStoresContend(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testenv.RedisURL(t))
	a, b := e.open(t), e.open(t)
	ctx := ctxT(t)
	id := newID(t)
	held := createLocked(t, ctx, a, &state.Upload{ID: id, Length: 10})
	if u, err := b.Get(ctx, id); err != nil || !u.Locked {
		t.Fatalf("peer Get while held: locked=%v err=%v, want locked", u != nil && u.Locked, err)
	}

	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_, err := b.Lock(short, id)
	cancel()
	if !errors.Is(err, state.ErrLocked) {
		t.Fatalf("lock while held until ctx ends: %v, want ErrLocked", err)
	}
	waitClosed(t, held.ReleaseRequested().Done(), "ReleaseRequested after a peer's Lock")

	type result struct {
		l   state.Lease
		err error
	}
	got := make(chan result, 1)
	go func() {
		l, err := b.Lock(ctx, id)
		got <- result{l, err}
	}()
	// The holder saves its progress, then lets go.
	if err := a.Commit(ctx, id, held.Token(), 0, state.Change{Offset: 4}); err != nil {
		t.Fatalf("holder commit: %v", err)
	}
	if err := held.Unlock(ctx); err != nil {
		t.Fatalf("unlock: %v", err)
	}
	if err := held.Unlock(ctx); err != nil {
		t.Fatalf("second unlock: %v", err)
	}
	var r result
	select {
	case r = <-got:
	case <-time.After(20 * time.Second):
		t.Fatal("waiter not granted within 20s of the unlock")
	}
	if r.err != nil {
		t.Fatalf("waiter lock: %v", r.err)
	}
	defer r.l.Unlock(ctx)
	if r.l.Token() <= held.Token() {
		t.Fatalf("new token %d not above old %d", r.l.Token(), held.Token())
	}
	if err := a.Commit(ctx, id, held.Token(), 4, state.Change{Offset: 5}); !errors.Is(err, state.ErrFenced) {
		t.Fatalf("commit with released token: %v, want ErrFenced", err)
	}
	if err := b.Commit(ctx, id, r.l.Token(), 4, state.Change{Offset: 6}); err != nil {
		t.Fatalf("new holder commit: %v", err)
	}
	if isClosed(r.l.Lost().Done()) {
		t.Fatal("new lease reported lost")
	}
}

// A holder paused past its lease is fenced before and after the new holder
// commits, and learns it lost the lease.
func TestPausedHolderIsFenced(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testenv.RedisURL(t))
	a, b := e.open(t), e.open(t)
	ctx := ctxT(t)
	id := newID(t)
	old := createLocked(t, ctx, a, &state.Upload{ID: id, Length: 10})
	defer old.Unlock(ctx)
	e.expire(t, id) // the holder "pauses": its lease lapses
	cur, err := b.Lock(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Unlock(ctx)

	if err := a.Commit(ctx, id, old.Token(), 0, state.Change{Offset: 3}); !errors.Is(err, state.ErrFenced) {
		t.Fatalf("paused holder commit before the new holder's: %v, want ErrFenced", err)
	}
	if err := b.Commit(ctx, id, cur.Token(), 0, state.Change{Offset: 5}); err != nil {
		t.Fatalf("new holder commit: %v", err)
	}
	if err := a.Commit(ctx, id, old.Token(), 5, state.Change{Offset: 8}); !errors.Is(err, state.ErrFenced) {
		t.Fatalf("paused holder commit after the new holder's: %v, want ErrFenced", err)
	}
	if err := a.Delete(ctx, id, old.Token()); !errors.Is(err, state.ErrFenced) {
		t.Fatalf("paused holder delete: %v, want ErrFenced", err)
	}
	waitClosed(t, old.Lost().Done(), "Lost of the lapsed lease")
	// Its Unlock must not release the new holder's lock.
	if err := old.Unlock(ctx); err != nil {
		t.Fatalf("unlock of lost lease: %v", err)
	}
	if u, err := b.Get(ctx, id); err != nil || u.Offset != 5 || !u.Locked {
		t.Fatalf("after the old holder's unlock: %+v, %v; want offset 5, still locked", u, err)
	}
	if err := b.Delete(ctx, id, cur.Token()); err != nil {
		t.Fatalf("delete by the holder: %v", err)
	}
	if _, err := b.Get(ctx, id); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("get after delete: %v, want ErrNotFound", err)
	}
}

// Renewals keep a lease alive well past its TTL.
func TestLeaseRenewed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testenv.RedisURL(t))
	s := e.open(t)
	ctx := ctxT(t)
	id := newID(t)
	l := lockFor(t, ctx, s, id)
	deadline := time.Now().Add(2 * testLease)
	for time.Now().Before(deadline) {
		if isClosed(l.Lost().Done()) {
			t.Fatal("lease lost although nobody took it")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if v, want := e.raw.Get(ctx, e.key(id, "l")).Val(), itoa(int64(l.Token()))+":"+redisstore.InstanceID(s); v != want {
		t.Fatalf("lock key holds %q after 2 TTLs, want %q (token %d of this store)", v, want, l.Token())
	}
}

// A process whose liveness key expired (it was paused, or cut off from
// Redis, for longer than LivenessTTL) may have had its leases broken by
// waiters: when its refresh finds the key gone, every lease it held is
// lost, even one whose lock key is intact. ValidUntil never runs ahead of
// the liveness key.
func TestLivenessGapLosesLeases(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testenv.RedisURL(t))
	s := e.openWith(t, redisstore.Options{LeaseTTL: doomedLease, LivenessTTL: time.Second})
	ctx := ctxT(t)
	id := newID(t)
	l := lockFor(t, ctx, s, id)
	if v := time.Until(l.ValidUntil()); v > time.Second {
		t.Fatalf("ValidUntil is %v ahead with a 1s liveness TTL, want at most 1s", v)
	}
	// What Redis does when the key's TTL lapses during a pause.
	if err := e.raw.Del(ctx, e.prefix+":live:"+redisstore.InstanceID(s)).Err(); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, l.Lost().Done(), "Lost after the liveness key had a gap")
	if l.ValidUntil().After(time.Now()) {
		t.Fatalf("ValidUntil %v still ahead after the lease was lost", l.ValidUntil())
	}
	// New grants work again once the key is back.
	l2 := lockFor(t, ctx, s, newID(t))
	if isClosed(l2.Lost().Done()) || !l2.ValidUntil().After(time.Now()) {
		t.Fatal("a lease granted after the gap is not valid")
	}
}

// lockFor takes id's lease in s; it is unlocked when the test ends.
func lockFor(t *testing.T, ctx context.Context, s *redisstore.Store, id string) state.Lease {
	t.Helper()
	l, err := s.Lock(ctx, id)
	if err != nil {
		t.Fatalf("lock %s: %v", id, err)
	}
	t.Cleanup(func() { _ = l.Unlock(context.Background()) })
	return l
}
