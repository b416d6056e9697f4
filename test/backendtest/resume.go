package backendtest

import (
	"bytes"
	"errors"
	"testing"

	"github.com/tusgate/tusgate/backends"
)

// errRefused stands for a commit the state store turned down (lost lease,
// fenced token).
var errRefused = errors.New("backendtest: commit refused (fenced)")

// refuseNth refuses the n-th commit call of a Write.
func refuseNth(n int) refuseFunc {
	return func(call int, _ backends.Progress) error {
		if call == n {
			return errRefused
		}
		return nil
	}
}

// testInterruptedBody checks invariant 6: when the body breaks, the bytes
// received are stored and counted, and the upload resumes from there.
func (s *suite) testInterruptedBody(t *testing.T) {
	b := s.h.New(t)
	size := s.mp + 11
	data := randomBytes(31, size)
	up := s.create(t, b, size)

	// Three bytes, the error arriving together with them; then from offset
	// 3 a body that crosses the minimum part and breaks on the next read.
	cuts := []struct {
		n        int64
		withLast bool
	}{{3, true}, {s.mp, false}}
	for _, c := range cuts {
		start := up.offset()
		res := up.write(t.Context(), &brokenBody{data: data[start : start+c.n], withLast: c.withLast}, nil)
		if !errors.Is(res.err, errBodyBroken) {
			t.Fatalf("Write with a body broken after %d bytes returned %v, want an error wrapping %v", c.n, res.err, errBodyBroken)
		}
		if got := up.offset(); got != start+c.n {
			t.Fatalf("after a body broken after %d bytes at offset %d, committed offset is %d, want %d", c.n, start, got, start+c.n)
		}
	}
	up.writeAll(data[up.offset():])
	up.finish()
	up.verify(data)
}

// testCommitRefused checks that a refused commit stops Write, leaves the
// committed state as it was and does not corrupt a later Write.
func (s *suite) testCommitRefused(t *testing.T) {
	b := s.h.New(t)
	t.Run("FirstCommitOfARequest", func(t *testing.T) {
		size := 7 + s.mp/2
		data := randomBytes(41, size)
		up := s.create(t, b, size)
		up.writeAll(data[:7])
		s.refusedWrite(t, up, data[7:])
		up.writeAll(data[up.offset():])
		up.finish()
		up.verify(data)
	})
	t.Run("LaterCommitOfARequest", func(t *testing.T) {
		size := s.mp + s.mp/4
		data := randomBytes(42, size)
		up := s.create(t, b, size)
		res := up.write(t.Context(), bytes.NewReader(data), refuseNth(2))
		switch {
		case res.refused == nil && res.err == nil:
			// The backend made all bytes durable in a single commit, so
			// there was no second commit to refuse; the upload is simply done.
			t.Logf("backend committed %d bytes in one commit; nothing to refuse", size)
		case res.refused == nil:
			t.Fatalf("Write failed without a refused commit: %v", res.err)
		default:
			s.checkRefused(t, up, res)
			if res.accepted != 1 || up.offset() <= res.start {
				t.Fatalf("before the refusal %d commits were accepted (offset %d -> %d), want 1 moving the offset",
					res.accepted, res.start, up.offset())
			}
			up.writeAll(data[up.offset():])
		}
		up.finish()
		up.verify(data)
	})
}

// refusedWrite writes body from the committed offset refusing the first
// commit: the offset must stay where it was.
func (s *suite) refusedWrite(t *testing.T, up *upload, body []byte) {
	t.Helper()
	res := up.write(t.Context(), bytes.NewReader(body), refuseNth(1))
	if res.refused == nil {
		t.Fatalf("Write of %d bytes made no commit to refuse (err %v)", len(body), res.err)
	}
	s.checkRefused(t, up, res)
	if got := up.offset(); got != res.start {
		t.Fatalf("after a refused commit the offset is %d, want %d", got, res.start)
	}
}

// checkRefused asserts Write reported the refusal, and calls Discard with the
// refused change if the backend implements Discarder.
func (s *suite) checkRefused(t *testing.T, up *upload, res writeResult) {
	t.Helper()
	if !errors.Is(res.err, errRefused) {
		t.Fatalf("Write after a refused commit returned %v, want an error wrapping %v", res.err, errRefused)
	}
	if d, ok := up.b.(backends.Discarder); ok {
		if err := d.Discard(t.Context(), up.snapshot(), *res.refused); err != nil {
			t.Fatalf("Discard of the refused change: %v", err)
		}
	}
}

// testRetryUncommittedRange writes a range whose commit is refused, then
// the same range again with other bytes: the object must hold the new ones.
func (s *suite) testRetryUncommittedRange(t *testing.T) {
	b := s.h.New(t)
	t.Run("SameLengthNewBytes", func(t *testing.T) {
		const prefix = 5
		size := prefix + s.mp + 1
		old := randomBytes(51, size)
		data := randomBytes(52, size)
		up := s.create(t, b, size)
		up.writeAll(data[:prefix])
		s.refusedWrite(t, up, old[prefix:])
		up.writeAll(data[prefix:])
		up.finish()
		up.verify(data)
	})
	t.Run("ShorterRetryThenLengthDeclared", func(t *testing.T) {
		// The refused attempt stored more bytes than the upload finally
		// has; none of them may leak into the object.
		const prefix, retry = 3, 20
		old := randomBytes(53, prefix+s.mp+50)
		data := randomBytes(54, prefix+retry)
		up := s.create(t, b, -1)
		up.writeAll(data[:prefix])
		s.refusedWrite(t, up, old[prefix:])
		up.writeAll(data[prefix:])
		up.declareLength(int64(len(data)))
		up.finish()
		up.verify(data)
	})
}
