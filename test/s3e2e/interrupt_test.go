package s3e2e

import (
	"testing"

	"github.com/tusgate/tusgate/test/e2e"
)

// TestInterruptedPatchKeepsReceivedBytes has the client drop the
// connection mid-body after two parts were committed and 2 MiB more were
// sent: HEAD must then count more than those parts (the received rest is
// stored as a tail) and no more than was sent, and resuming from there must
// give the source's bytes.
func TestInterruptedPatchKeepsReceivedBytes(t *testing.T) {
	t.Parallel()
	const size = 24 * MiB
	e := newEnv(t)
	p := e.start(t)
	st := e.stateReader(t)
	data := sourceData(size, 12)

	url := e2e.Create(t, p.URL, size, nil)
	s := startStream(t, url, 0, data)
	if err := s.feed(12 * MiB); err != nil {
		t.Fatalf("sending the body: %v", err)
	}
	committed := awaitCommitted(t, st, url, 2*partSize, s)
	s.abort()
	if r := s.wait(t); r.err == nil {
		t.Fatalf("the aborted PATCH got a response %d %q; the client should have seen its own error", r.status, r.body)
	}

	// HEAD waits for the interrupted PATCH to store what it received.
	offset := e2e.Offset(t, url)
	t.Logf("committed %d before the client left; client sent %d; HEAD reports %d", committed, s.sent, offset)
	if offset <= committed || offset > s.sent {
		t.Fatalf("HEAD offset %d, want above the %d committed before the interruption and at most the %d sent", offset, committed, s.sent)
	}
	if got := e2e.Patch(t, url, offset, data[offset:]); got != size {
		t.Fatalf("resuming PATCH: Upload-Offset %d, want %d", got, size)
	}
	e.checkContent(t, url, data)
}
