package backendtest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tusgate/tusgate/backends"
)

// testPing checks the readiness probe on a healthy store.
func (s *suite) testPing(t *testing.T) {
	b := s.h.New(t)
	if err := b.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// testFinishTwice repeats Finish on the same unfinished record, as after a
// crash between Finish and the commit of Finished.
func (s *suite) testFinishTwice(t *testing.T) {
	b := s.h.New(t)
	size := s.mp + 13
	data := randomBytes(61, size)
	up := s.create(t, b, size)
	up.writeAll(data[:s.mp-1])
	up.writeAll(data[s.mp-1:])
	u, parts := up.snapshot(), up.manifest()
	for i := range 2 {
		if err := b.Finish(t.Context(), u.Clone(), parts); err != nil {
			t.Fatalf("Finish call %d: %v", i+1, err)
		}
	}
	up.finish() // a third call, now committed as the gateway would
	up.verify(data)
}

// testRangeWindows reads windows of a finished object.
func (s *suite) testRangeWindows(t *testing.T) {
	b := s.h.New(t)
	size := s.mp + 13
	data := randomBytes(71, size)
	up := s.create(t, b, size)
	up.writeAll(data)
	up.finish()
	rr := rangeReader(t, b)
	windows := []struct {
		name     string
		off, len int64
	}{
		{"Start", 0, 10},
		{"MiddleAcrossMinPart", s.mp - 5, 10},
		{"End", size - 7, 7},
		{"Whole", 0, size},
		{"EmptyAtStart", 0, 0},
		{"EmptyInMiddle", size / 2, 0},
		{"EmptyAtEnd", size, 0},
	}
	for _, w := range windows {
		t.Run(w.name, func(t *testing.T) {
			got, err := readRange(t.Context(), rr, up.snapshot(), w.off, w.len)
			if err != nil {
				t.Fatalf("range [%d, +%d): %v", w.off, w.len, err)
			}
			sameBytes(t, "window", got, data[w.off:w.off+w.len])
		})
	}
}

// testDelete checks that Delete removes stored bytes and tolerates uploads
// with nothing stored or already deleted.
func (s *suite) testDelete(t *testing.T) {
	b := s.h.New(t)
	t.Run("FinishedUploadIsGone", func(t *testing.T) {
		data := randomBytes(81, 1024)
		up := s.create(t, b, int64(len(data)))
		up.writeAll(data)
		up.finish()
		up.verify(data)
		u := up.snapshot()
		if err := b.Delete(t.Context(), u); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		_, err := readRange(t.Context(), rangeReader(t, b), u, 0, u.Length)
		if !errors.Is(err, backends.ErrNotFound) {
			t.Fatalf("reading a deleted upload: err %v, want one wrapping backends.ErrNotFound", err)
		}
	})
	t.Run("UnfinishedUploadWithData", func(t *testing.T) {
		size := s.mp + 100
		data := randomBytes(82, s.mp+1)
		up := s.create(t, b, size)
		up.writeAll(data)
		deleteTwice(t, b, up)
	})
	t.Run("UploadWithoutData", func(t *testing.T) {
		up := s.create(t, b, 10)
		deleteTwice(t, b, up)
	})
	t.Run("DeferredLengthWithoutData", func(t *testing.T) {
		up := s.create(t, b, -1)
		deleteTwice(t, b, up)
	})
}

// deleteTwice deletes an upload, then deletes it again; neither may fail.
func deleteTwice(t *testing.T, b backends.Backend, up *upload) {
	t.Helper()
	u := up.snapshot()
	if err := b.Delete(t.Context(), u); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := b.Delete(t.Context(), u); err != nil {
		t.Fatalf("Delete of an already deleted upload: %v", err)
	}
}

// testCancelDuringWrite cancels the request context mid-body: Write must
// return an error wrapping context.Canceled without draining the body, and
// whatever it committed must be a sound base to resume from.
func (s *suite) testCancelDuringWrite(t *testing.T) {
	b := s.h.New(t)
	// A backend may finish the part it is filling, so it may read up to a
	// MinPart (plus slack) after the cancel; the body is longer than that, so
	// one that ignores ctx trips the allowance.
	cancelAt := s.mp / 2
	allowance := s.mp + 256<<10
	size := cancelAt + allowance + 256<<10
	data := randomBytes(91, size)
	up := s.create(t, b, size)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	body := &cancellingBody{data: data, cancelAt: cancelAt, allowance: allowance, cancel: cancel}
	done := make(chan writeResult, 1)
	go func() { done <- up.write(ctx, body, nil) }()
	var res writeResult
	select {
	case res = <-done:
	case <-time.After(time.Minute):
		t.Fatal("Write did not return within a minute of its context being cancelled")
	}
	if body.overRead.Load() {
		t.Fatalf("Write kept reading more than %d bytes after ctx was cancelled", allowance)
	}
	if !errors.Is(res.err, context.Canceled) {
		t.Fatalf("Write with a cancelled ctx returned %v, want an error wrapping context.Canceled", res.err)
	}
	t.Logf("cancelled after %d bytes; backend read %d, committed %d", cancelAt, res.consumed, up.offset())
	up.writeAll(data[up.offset():])
	up.finish()
	up.verify(data)
}
