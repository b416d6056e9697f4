package redisstore_test

import (
	"strings"
	"testing"

	"github.com/tusgate/tusgate/state"
	"github.com/tusgate/tusgate/state/redisstore"
	"github.com/tusgate/tusgate/test/statetest"
	"github.com/tusgate/tusgate/test/testenv"
)

// The holder's instance name travels in its grant: a peer's Get reports it
// as Upload.Holder, and the instance ID stays unique per process.
func TestHolderNameInGrants(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testenv.RedisURL(t))
	a := e.openWith(t, redisstore.Options{LeaseTTL: testLease, InstanceName: "tusgate-7d9f-abc"})
	a2 := e.openWith(t, redisstore.Options{LeaseTTL: testLease, InstanceName: "tusgate-7d9f-abc"})
	b := e.open(t)
	if ia, ia2 := redisstore.InstanceID(a), redisstore.InstanceID(a2); ia == ia2 || !strings.HasPrefix(ia, "tusgate-7d9f-abc@") {
		t.Fatalf("instance IDs %q and %q: want distinct, starting with the name", ia, ia2)
	}
	ctx := ctxT(t)
	id := newID(t)
	held := createLocked(t, ctx, a, &state.Upload{ID: id, Length: 10})
	u, err := b.Get(ctx, id)
	if err != nil || !u.Locked || u.Holder != "tusgate-7d9f-abc" {
		t.Fatalf("peer Get while held: %+v, %v; want locked by tusgate-7d9f-abc", u, err)
	}
	if err := held.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	l := lockFor(t, ctx, b, id) // a store without a name
	if u, err := a.Get(ctx, id); err != nil || !u.Locked || u.Holder != "" {
		t.Fatalf("Get while a nameless store holds it: %+v, %v; want locked, no holder name", u, err)
	}
	_ = l.Unlock(ctx)
	if u, err := a.Get(ctx, id); err != nil || u.Locked || u.Holder != "" {
		t.Fatalf("Get of a free upload: %+v, %v; want unlocked, no holder", u, err)
	}

	// A lock value naming no valid holder (written by something else) shows
	// as locked with no name, never as the raw text.
	if err := e.raw.Set(ctx, e.key(id, "l"), "99:<b>x y</b>@00ff", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if u, err := a.Get(ctx, id); err != nil || !u.Locked || u.Holder != "" {
		t.Fatalf("Get under a foreign lock value: %+v, %v; want locked, no holder name", u, err)
	}
	e.expire(t, id)

	for _, bad := range []string{"a:b", "a@b", "{x}", strings.Repeat("n", 64), "sp ace"} {
		if _, err := redisstore.Open(ctx, testenv.RedisURL(t), redisstore.Options{InstanceName: bad}); err == nil {
			t.Errorf("Open accepted the instance name %q", bad)
		}
	}
}

// A waiter tells its observer once that it asked the holder to let go, and
// how it got the upload: released by a live holder, broken from a dead one.
func TestObserverHearsReleaseRequestsAndTakeovers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testenv.RedisURL(t))
	var ev statetest.LockEvents
	a, b := e.open(t), e.openWith(t, redisstore.Options{LeaseTTL: testLease, Observer: &ev})
	ctx := ctxT(t)

	id := newID(t)
	held := createLocked(t, ctx, a, &state.Upload{ID: id, Length: 10})
	// The holder lets go when asked, as a gateway request does.
	go func() {
		<-held.ReleaseRequested().Done()
		_ = held.Unlock(ctx)
	}()
	l := lockFor(t, ctx, b, id)
	_ = l.Unlock(ctx)
	if sent, tk := ev.Counts(); sent != 1 || tk[state.TakeoverReleased] != 1 || tk[state.TakeoverBroken] != 0 {
		t.Fatalf("after a released takeover: sent %d, takeovers %v; want 1 and released 1", sent, tk)
	}

	// Uncontended: no request, no takeover.
	l = lockFor(t, ctx, b, id)
	_ = l.Unlock(ctx)
	if sent, tk := ev.Counts(); sent != 1 || tk[state.TakeoverReleased] != 1 {
		t.Fatalf("after an uncontended lock: sent %d, takeovers %v; want unchanged", sent, tk)
	}

	// A holder whose process died is broken once its liveness key is gone.
	c := e.open(t)
	id2 := newID(t)
	createLocked(t, ctx, c, &state.Upload{ID: id2, Length: 10})
	if err := redisstore.Crash(c); err != nil {
		t.Fatal(err)
	}
	l = lockFor(t, ctx, b, id2)
	_ = l.Unlock(ctx)
	if sent, tk := ev.Counts(); sent != 2 || tk[state.TakeoverBroken] != 1 || tk[state.TakeoverReleased] != 1 {
		t.Fatalf("after a dead holder's lease was broken: sent %d, takeovers %v; want 2, broken 1, released 1", sent, tk)
	}
}
