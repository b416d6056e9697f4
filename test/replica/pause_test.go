package replica

import (
	"net/http"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/tusgate/tusgate/test/e2e"
)

// TestPausedReplicaCannotOverwriteNewerState freezes replica A with SIGSTOP
// in the middle of a PATCH, long enough for its lease to lapse. Replica B
// then takes the upload over and advances it. When A is resumed with
// SIGCONT, its old request must fail (409 or 5xx, never a success) and
// must not change the state: HEAD on every replica still reports what B
// acknowledged, and the upload finishes to the source's bytes.
func TestPausedReplicaCannotOverwriteNewerState(t *testing.T) {
	const size = 32 * MiB
	c, data, u := threeWithUpload(t, size, 7, 2)

	a := c.nodes[0]
	sp := startStream(t, c.at(0, u), 0, data, size, 2*time.Millisecond)
	// Past the file backend's 16 MiB commit point, so A has committed
	// state that B must build on.
	sp.awaitStored(t, c.dataFile(u), 18*MiB)
	a.Signal(syscall.SIGSTOP)
	t.Cleanup(func() { a.Signal(syscall.SIGCONT) }) // so it can be killed cleanly

	// A cannot answer a release request; B's HEAD waits for its lease to
	// lapse.
	head := send(t, http.MethodHead, c.at(1, u), nil, nil, lockTimeout+5*time.Second)
	if head.status != http.StatusOK {
		t.Fatalf("HEAD on replica 1 while replica 0 is stopped: status %d, want 200", head.status)
	}
	offset := uploadOffset(t, head.header)
	if offset == 0 {
		t.Fatal("replica 0 committed nothing before it was stopped; the test needs committed state to build on")
	}
	t.Logf("replica 0 stopped after the client sent %s; HEAD on replica 1 after %s reports %s",
		mib(sp.sent.Load()), head.took, mib(offset))
	advanced := min(offset+8*MiB, size-MiB)
	if got := e2e.Patch(t, c.at(1, u), offset, data[offset:advanced]); got != advanced {
		t.Fatalf("PATCH on replica 1 from %d: Upload-Offset %d, want %d", offset, got, advanced)
	}
	// B's grant proves A's lease had lapsed: the lock is free only then.
	a.Signal(syscall.SIGCONT)
	r := sp.wait(t)
	t.Logf("the paused replica's PATCH after SIGCONT: %s", describe(r))
	if r.err == nil && r.status != http.StatusConflict && r.status < 500 {
		t.Fatalf("the paused replica's PATCH ended with %d %q, want 409 or 5xx", r.status, r.body)
	}
	sp.abort()
	for i := range c.nodes {
		if got := e2e.Offset(t, c.at(i, u)); got != advanced {
			t.Fatalf("HEAD on replica %d after the paused replica resumed: offset %d, want %d acknowledged by replica 1", i, got, advanced)
		}
	}
	if got := e2e.Patch(t, c.at(2, u), advanced, data[advanced:]); got != size {
		t.Fatalf("completing PATCH on replica 2: Upload-Offset %d, want %d", got, size)
	}
	checkContent(t, c.at(0, u), data)
}

// TestPausedReplicaStaleBytesNeverReplaceAcknowledgedBytes is the byte-level
// side of the fencing invariant: once replica B has acknowledged bytes, a
// paused ex-holder that wakes up must not replace any of them. To make stale
// bytes visible, A's client sends another version of the content (as a
// client whose source changed before it resumed elsewhere would). A is
// stopped while it waits for body bytes, then its client sends more, which
// wait in the socket for A to wake up. The finished upload must hold A's
// version below the offset B resumed from, and B's version from there on.
func TestPausedReplicaStaleBytesNeverReplaceAcknowledgedBytes(t *testing.T) {
	c := startCluster(t, 3, sharedRedis(t))
	const size = 32 * MiB
	older, newer := source(size, 10), source(size, 11)
	u := e2e.Create(t, c.nodes[2].URL, size, nil)

	a := c.nodes[0]
	const stall = 18 * MiB // past the file backend's 16 MiB commit point
	sp := startStream(t, c.at(0, u), 0, older, stall, time.Millisecond)
	sp.awaitStored(t, c.dataFile(u), stall) // A has read all it was sent
	a.Signal(syscall.SIGSTOP)
	t.Cleanup(func() { a.Signal(syscall.SIGCONT) }) // so it can be killed cleanly
	sp.sendRest()
	sp.awaitSent(t, stall+MiB) // queued in the sockets for A

	offset := e2e.Offset(t, c.at(1, u)) // waits for A's lease to lapse
	if offset == 0 || offset > stall {
		t.Fatalf("HEAD on replica 1: offset %d; the test needs replica 0 stopped mid-upload, after a commit, at most at %d", offset, stall)
	}
	const acked = size - MiB
	if got := e2e.Patch(t, c.at(1, u), offset, newer[offset:acked]); got != acked {
		t.Fatalf("PATCH on replica 1 from %d: Upload-Offset %d, want %d", offset, got, acked)
	}
	a.Signal(syscall.SIGCONT)
	r := sp.wait(t)
	t.Logf("replica 1 acknowledged [%s, %s) while replica 0 was stopped; replica 0's PATCH after SIGCONT: %s",
		mib(offset), mib(acked), describe(r))
	if r.err == nil && r.status != http.StatusConflict && r.status < 500 {
		t.Errorf("the paused replica's PATCH ended with %d %q, want 409 or 5xx", r.status, r.body)
	}
	sp.abort()

	if got := e2e.Patch(t, c.at(2, u), acked, newer[acked:]); got != size {
		t.Fatalf("completing PATCH: Upload-Offset %d, want %d", got, size)
	}
	want := append(append([]byte(nil), older[:offset]...), newer[offset:]...)
	got, err := os.ReadFile(c.dataFile(u))
	if err != nil {
		t.Fatal(err)
	}
	if i := firstDifference(got, want); i >= 0 {
		t.Fatalf("byte %d (%s) of the finished upload is not the one acknowledged there: the paused replica wrote over bytes replica 1 had acknowledged in [%s, %s)",
			i, mib(int64(i)), mib(offset), mib(acked))
	}
	checkContent(t, c.at(0, u), want)
}

// firstDifference is the index of the first byte where a and b differ, or
// -1 when they are equal.
func firstDifference(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}
