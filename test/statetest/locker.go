package statetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tusgate/tusgate/state"
)

var lockerTests = []suiteTest{
	{name: "LockThenUnlock", run: testLockUnlock},
	{name: "TokensStrictlyIncreaseAcrossGrants", run: testTokensIncrease},
	{name: "SecondLockRequestsReleaseAndIsGrantedAfterUnlock", run: testReleaseRequest},
	{name: "LockWhoseContextEndsIsErrLocked", run: testLockTimeout},
	{name: "UnlockTwiceIsSafe", run: testUnlockTwice},
	{name: "DifferentUploadsDoNotContend", run: testNoCrossContention},
	{name: "LeaseIsRenewedWhileHeld", run: testRenewal},
	{name: "ValidUntilIsAheadWhileHeldAndMovesWithRenewals", run: testValidUntil},
	{name: "ManyContendersOneHolderAtATime", run: testManyContenders},
	{name: "PeerSeesRecordsAndLockedHint", needs: []string{needPeer}, run: testPeerSees},
	{name: "PeerLockersContendAndRequestRelease", needs: []string{needPeer}, run: testPeerContend},
	{name: "TokensIncreaseAcrossPeers", needs: []string{needPeer}, run: testPeerTokens},
	{name: "ExpiredLeaseIsLostAndFenced", needs: []string{needExpire}, run: testExpireLost},
	{name: "ExpiredLeaseIsTakenOverAndOldHolderFenced", needs: []string{needExpire}, run: testExpireTakeover(false)},
	{name: "ExpiredLeaseIsTakenOverByPeer", needs: []string{needExpire, needPeer}, run: testExpireTakeover(true)},
	{name: "DeadHoldersLeaseIsBrokenAndFenced", needs: []string{needDoomed}, run: testDeadHolder},
}

// lockAsync starts a Lock that waits up to eventWait and reports the outcome.
func lockAsync(l state.Locker, id string) <-chan lockResult {
	out := make(chan lockResult, 1)
	go func() {
		ctx, cancel := lockCtx(eventWait)
		defer cancel()
		ls, err := l.Lock(ctx, id)
		out <- lockResult{ls, err}
	}()
	return out
}

type lockResult struct {
	lease state.Lease
	err   error
}

func awaitGrant(t *testing.T, ch <-chan lockResult, what string) state.Lease {
	t.Helper()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("%s: Lock: %v", what, r.err)
		}
		t.Cleanup(func() { _ = r.lease.Unlock(context.Background()) })
		return r.lease
	case <-time.After(eventWait + time.Second):
		t.Fatalf("%s: Lock did not return within %v", what, eventWait)
		return nil
	}
}

// wantHeld checks that nobody else can take id right now: a short Lock must
// give up with ErrLocked. (It also asks the holder to release, so use it
// only where that does not matter.)
func wantHeld(t *testing.T, l state.Locker, id, what string) {
	t.Helper()
	ctx, cancel := lockCtx(300 * time.Millisecond)
	defer cancel()
	ls, err := l.Lock(ctx, id)
	if err == nil {
		_ = ls.Unlock(context.Background())
		t.Fatalf("%s: a competing Lock was granted while the upload should be held", what)
	}
	wantErr(t, what+": competing Lock", err, state.ErrLocked)
}

func testLockUnlock(t *testing.T, h Harness) {
	_, l := h.New(t)
	id := newID(t)
	ls, err := l.Lock(opCtx(t), id)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	if ls == nil {
		t.Fatal("Lock returned a nil lease without error")
	}
	if isClosed(ls.Lost().Done()) {
		t.Fatal("Lost is closed on a fresh lease")
	}
	if isClosed(ls.ReleaseRequested().Done()) {
		t.Fatal("ReleaseRequested is closed with nobody waiting")
	}
	mustUnlock(t, ls)
	again := mustLock(t, l, id)
	mustUnlock(t, again)
}

func testTokensIncrease(t *testing.T, h Harness) {
	_, l := h.New(t)
	id, other := newID(t), newID(t)
	var last state.Token
	for i := range 6 {
		ls := mustLock(t, l, id)
		// Grants on another upload in between must not break the order.
		lo := mustLock(t, l, other)
		if i > 0 && ls.Token() <= last {
			t.Fatalf("grant %d has token %d, not above the previous %d", i, ls.Token(), last)
		}
		last = ls.Token()
		mustUnlock(t, lo)
		mustUnlock(t, ls)
	}
}

func testReleaseRequest(t *testing.T, h Harness) {
	_, l := h.New(t)
	id := newID(t)
	a := mustLock(t, l, id)
	waiter := lockAsync(l, id)
	waitClosed(t, a.ReleaseRequested().Done(), "holder's ReleaseRequested while another Lock waits")
	if isClosed(a.Lost().Done()) {
		t.Fatal("a release request made the holder's lease Lost")
	}
	select {
	case r := <-waiter:
		t.Fatalf("waiting Lock returned while the upload was held: %v", r.err)
	default:
	}
	mustUnlock(t, a)
	b := awaitGrant(t, waiter, "waiter after Unlock")
	if b.Token() <= a.Token() {
		t.Fatalf("new grant token %d not above the previous %d", b.Token(), a.Token())
	}
	if isClosed(b.ReleaseRequested().Done()) {
		t.Fatal("new holder's ReleaseRequested closed with nobody waiting")
	}
}

func testLockTimeout(t *testing.T, h Harness) {
	s, l := h.New(t)
	u := newUpload(t, baseTime())
	mustCreate(t, s, u)
	a := mustLock(t, l, u.ID)
	wantHeld(t, l, u.ID, "Lock on a held upload")
	waitClosed(t, a.ReleaseRequested().Done(), "holder's ReleaseRequested after a Lock gave up")
	// The holder ignored the request and still owns the upload.
	if isClosed(a.Lost().Done()) {
		t.Fatal("holder's lease Lost after a competing Lock gave up")
	}
	mustCommit(t, s, u.ID, a.Token(), 0, state.Change{Offset: 1})
}

func testUnlockTwice(t *testing.T, h Harness) {
	s, l := h.New(t)
	u := newUpload(t, baseTime())
	mustCreate(t, s, u)
	a, err := l.Lock(opCtx(t), u.ID)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	mustUnlock(t, a)
	if err := a.Unlock(opCtx(t)); err != nil {
		t.Fatalf("second Unlock: %v", err)
	}
	b := mustLock(t, l, u.ID)
	if err := a.Unlock(opCtx(t)); err != nil {
		t.Fatalf("third Unlock, after a new grant: %v", err)
	}
	// The stale Unlock must not have released the new holder.
	wantHeld(t, l, u.ID, "after a stale Unlock")
	if isClosed(b.Lost().Done()) {
		t.Fatal("new holder's lease Lost after a stale Unlock")
	}
	mustCommit(t, s, u.ID, b.Token(), 0, state.Change{Offset: 1})
}

func testNoCrossContention(t *testing.T, h Harness) {
	_, l := h.New(t)
	id1, id2 := newID(t), newID(t)
	a := mustLock(t, l, id1)
	b := mustLock(t, l, id2)
	if isClosed(a.ReleaseRequested().Done()) || isClosed(b.ReleaseRequested().Done()) {
		t.Fatal("locking one upload asked the holder of another to release")
	}
	mustUnlock(t, b)
	mustUnlock(t, a)
}

func testRenewal(t *testing.T, h Harness) {
	s, l := h.New(t)
	u := newUpload(t, baseTime())
	mustCreate(t, s, u)
	a := mustLock(t, l, u.ID)
	// Longer than the short lease times harnesses configure: only renewal
	// keeps the lease.
	select {
	case <-a.Lost().Done():
		t.Fatal("lease Lost while held and renewed")
	case <-time.After(1500 * time.Millisecond):
	}
	if !mustGet(t, s, u.ID).Locked {
		t.Fatal("Locked = false while the renewed lease is held")
	}
	mustCommit(t, s, u.ID, a.Token(), 0, state.Change{Offset: 1})
	wantHeld(t, l, u.ID, "after renewals")
}

func testValidUntil(t *testing.T, h Harness) {
	s, l := h.New(t)
	u := newUpload(t, baseTime())
	mustCreate(t, s, u)
	a := mustLock(t, l, u.ID)
	first := a.ValidUntil()
	if !first.After(time.Now()) {
		t.Fatalf("ValidUntil %v is not in the future right after the grant", first)
	}
	// Held past the first deadline: renewals must have moved it forward.
	time.Sleep(time.Until(first) + 100*time.Millisecond)
	if v := a.ValidUntil(); !v.After(first) || !v.After(time.Now()) {
		t.Fatalf("ValidUntil %v did not move past %v with renewals", v, first)
	}
	mustUnlock(t, a)
}

func testManyContenders(t *testing.T, h Harness) {
	_, l := h.New(t)
	id := newID(t)
	const workers, rounds = 8, 4
	var (
		holders atomic.Int32
		mu      sync.Mutex
		last    state.Token
		grants  int
		wg      sync.WaitGroup
	)
	errs := make(chan error, workers*rounds)
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				ls, err := l.Lock(ctx, id)
				cancel()
				if err != nil {
					errs <- fmt.Errorf("worker %d round %d: Lock: %w", w, r, err)
					return
				}
				if n := holders.Add(1); n != 1 {
					errs <- fmt.Errorf("worker %d round %d: %d holders at once", w, r, n)
				}
				mu.Lock()
				if grants > 0 && ls.Token() <= last {
					errs <- fmt.Errorf("worker %d round %d: token %d not above previous grant %d", w, r, ls.Token(), last)
				}
				last, grants = ls.Token(), grants+1
				mu.Unlock()
				time.Sleep(time.Millisecond) // hold briefly so others pile up
				holders.Add(-1)
				if err := ls.Unlock(context.Background()); err != nil {
					errs <- fmt.Errorf("worker %d round %d: Unlock: %w", w, r, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if grants != workers*rounds {
		t.Errorf("%d grants, want %d", grants, workers*rounds)
	}
}

func testPeerSees(t *testing.T, h Harness) {
	s1, l1 := h.New(t)
	s2, _ := h.Peer(t)
	u := newUpload(t, baseTime())
	mustCreate(t, s1, u)
	sameUpload(t, mustGet(t, s2, u.ID), u)
	a := mustLock(t, l1, u.ID)
	if !mustGet(t, s2, u.ID).Locked {
		t.Fatal("peer's Get: Locked = false while the first client holds the lease")
	}
	mustUnlock(t, a)
	if mustGet(t, s2, u.ID).Locked {
		t.Fatal("peer's Get: Locked = true after Unlock")
	}
}

func testPeerContend(t *testing.T, h Harness) {
	s1, l1 := h.New(t)
	s2, l2 := h.Peer(t)
	u := newUpload(t, baseTime())
	mustCreate(t, s1, u)

	a := mustLock(t, l1, u.ID)
	wantHeld(t, l2, u.ID, "peer Lock while the first client holds")
	waitClosed(t, a.ReleaseRequested().Done(), "holder's ReleaseRequested after a peer's Lock")

	waiter := lockAsync(l2, u.ID)
	mustUnlock(t, a)
	b := awaitGrant(t, waiter, "peer waiter after Unlock")
	if b.Token() <= a.Token() {
		t.Fatalf("peer grant token %d not above the previous %d", b.Token(), a.Token())
	}
	mustCommit(t, s2, u.ID, b.Token(), 0, state.Change{Offset: 1})
	wantErr(t, "first client's commit with its released token",
		s1.Commit(opCtx(t), u.ID, a.Token(), 1, state.Change{Offset: 2}), state.ErrFenced)

	// And the other way round.
	back := lockAsync(l1, u.ID)
	waitClosed(t, b.ReleaseRequested().Done(), "peer holder's ReleaseRequested after the first client's Lock")
	mustUnlock(t, b)
	c := awaitGrant(t, back, "first client waiter after the peer's Unlock")
	if c.Token() <= b.Token() {
		t.Fatalf("grant token %d not above the peer's %d", c.Token(), b.Token())
	}
	mustCommit(t, s1, u.ID, c.Token(), 1, state.Change{Offset: 2})
	if got := mustGet(t, s2, u.ID); got.Offset != 2 {
		t.Fatalf("peer sees Offset %d, want 2", got.Offset)
	}
}

func testPeerTokens(t *testing.T, h Harness) {
	_, l1 := h.New(t)
	_, l2 := h.Peer(t)
	id := newID(t)
	var last state.Token
	for i := range 6 {
		l := l1
		if i%2 == 1 {
			l = l2
		}
		ls := mustLock(t, l, id)
		if i > 0 && ls.Token() <= last {
			t.Fatalf("grant %d has token %d, not above the previous %d", i, ls.Token(), last)
		}
		last = ls.Token()
		mustUnlock(t, ls)
	}
}

func testExpireLost(t *testing.T, h Harness) {
	s, l := h.New(t)
	u := newUpload(t, baseTime())
	mustCreate(t, s, u)
	a := mustLock(t, l, u.ID)
	mustCommit(t, s, u.ID, a.Token(), 0, state.Change{Offset: 5})
	h.Expire(t, u.ID)
	wantErr(t, "Commit by a holder whose lease lapsed",
		s.Commit(opCtx(t), u.ID, a.Token(), 5, rejectedChange(5)), state.ErrFenced)
	waitClosed(t, a.Lost().Done(), "Lost of a lapsed lease")
	if v := a.ValidUntil(); v.After(time.Now()) {
		t.Fatalf("ValidUntil %v is still ahead after the lease was lost", v)
	}
	if got := mustGet(t, s, u.ID); got.Offset != 5 || got.Finished {
		t.Fatalf("record changed by a fenced commit: %+v", got)
	}
	// The upload is free again.
	b := mustLock(t, l, u.ID)
	mustCommit(t, s, u.ID, b.Token(), 5, state.Change{Offset: 6})
}

func testExpireTakeover(peer bool) func(t *testing.T, h Harness) {
	return func(t *testing.T, h Harness) {
		s1, l1 := h.New(t)
		s2, l2 := s1, l1
		if peer {
			s2, l2 = h.Peer(t)
		}
		u := newUpload(t, baseTime())
		mustCreate(t, s1, u)
		a := mustLock(t, l1, u.ID)
		mustCommit(t, s1, u.ID, a.Token(), 0, state.Change{Offset: 5, Parts: []state.Part{{Number: 1, Size: 5, ETag: "a"}}})

		h.Expire(t, u.ID)
		// Granted without any Unlock by the old holder.
		b := mustLock(t, l2, u.ID)
		if b.Token() <= a.Token() {
			t.Fatalf("takeover token %d not above the lapsed %d", b.Token(), a.Token())
		}

		// Fenced before the new holder has committed anything.
		wantErr(t, "old holder's Commit after takeover",
			s1.Commit(opCtx(t), u.ID, a.Token(), 5, rejectedChange(5)), state.ErrFenced)
		wantErr(t, "old holder's Delete after takeover",
			s1.Delete(opCtx(t), u.ID, a.Token()), state.ErrFenced)
		want := u.Clone()
		want.Offset = 5
		sameUpload(t, mustGet(t, s2, u.ID), want)
		sameParts(t, mustParts(t, s2, u.ID), []state.Part{{Number: 1, Size: 5, ETag: "a"}})
		waitClosed(t, a.Lost().Done(), "old holder's Lost after takeover")

		mustCommit(t, s2, u.ID, b.Token(), 5, state.Change{Offset: 10})

		// The old holder's Unlock must not release the new holder's lease.
		_ = a.Unlock(opCtx(t))
		wantHeld(t, l1, u.ID, "after the lapsed holder's Unlock")
		if isClosed(b.Lost().Done()) {
			t.Fatal("new holder's lease Lost after the old holder's Unlock")
		}
		mustCommit(t, s2, u.ID, b.Token(), 10, state.Change{Offset: 11})
		if got := mustGet(t, s1, u.ID); got.Offset != 11 || !got.Locked {
			t.Fatalf("after takeover: Offset %d Locked %v, want 11 and locked", got.Offset, got.Locked)
		}
	}
}

// testDeadHolder: a holder whose process dies (it never unlocks, never
// answers a release request, and its lease lasts far longer than the wait)
// must not keep the upload: a waiter is granted it within eventWait, which
// only a liveness check can do, with a greater token that fences the dead
// holder's commits and deletes.
func testDeadHolder(t *testing.T, h Harness) {
	s, l := h.New(t)
	ds, dl, crash := h.Doomed(t)
	u := newUpload(t, baseTime())
	mustCreate(t, s, u)
	a := mustLock(t, dl, u.ID)
	mustCommit(t, ds, u.ID, a.Token(), 0, state.Change{Offset: 5})
	crash()

	start := time.Now()
	b := awaitGrant(t, lockAsync(l, u.ID), "Lock while the holder is dead")
	t.Logf("the dead holder's lease was taken over after %v", time.Since(start))
	if b.Token() <= a.Token() {
		t.Fatalf("token %d after the dead holder's %d, want greater", b.Token(), a.Token())
	}
	wantErr(t, "the dead holder's Commit", s.Commit(opCtx(t), u.ID, a.Token(), 5, rejectedChange(5)), state.ErrFenced)
	wantErr(t, "the dead holder's Delete", s.Delete(opCtx(t), u.ID, a.Token()), state.ErrFenced)
	mustCommit(t, s, u.ID, b.Token(), 5, state.Change{Offset: 6})
	if got := mustGet(t, s, u.ID); got.Offset != 6 || !got.Locked {
		t.Fatalf("after the takeover: Offset %d Locked %v, want 6 and locked", got.Offset, got.Locked)
	}
}
