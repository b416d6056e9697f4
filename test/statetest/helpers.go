package statetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/tusgate/tusgate/state"
)

// eventWait bounds waits for events that should happen promptly (a release
// request, a grant after Unlock, Lost after a lapse). It is an upper bound,
// not a performance expectation.
const eventWait = 5 * time.Second

// newID returns an opaque ID shaped like the gateway's: 32 lowercase hex chars.
func newID(t *testing.T) string {
	t.Helper()
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("random id: %v", err)
	}
	return hex.EncodeToString(b[:])
}

// opCtx bounds one store or locker call so a hung implementation fails the
// test instead of stalling the run.
func opCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// baseTime is a wall-clock instant at second precision, so every store that
// keeps at least seconds round-trips it exactly. Expiry times in the suite
// lie in the future because some stores derive key TTLs from them.
func baseTime() time.Time { return time.Now().Truncate(time.Second) }

func ptr[T any](v T) *T { return &v }

// newUpload returns a plain unfinished upload expiring a day from base.
func newUpload(t *testing.T, base time.Time) *state.Upload {
	return &state.Upload{
		ID:        newID(t),
		Length:    1 << 20,
		Metadata:  "filename d29ybGQudHh0,is_confidential",
		Owner:     "subject-1",
		CreatedAt: base,
		ExpiresAt: base.Add(24 * time.Hour),
		Handle:    map[string]string{"uploadId": "mpu-1", "key": "objects/a"},
	}
}

func mustCreate(t *testing.T, s state.Store, u *state.Upload) {
	t.Helper()
	if err := s.Create(opCtx(t), u.Clone()); err != nil {
		t.Fatalf("Create(%s): %v", u.ID, err)
	}
}

func mustGet(t *testing.T, s state.Store, id string) *state.Upload {
	t.Helper()
	u, err := s.Get(opCtx(t), id)
	if err != nil {
		t.Fatalf("Get(%s): %v", id, err)
	}
	if u == nil {
		t.Fatalf("Get(%s) returned nil without error", id)
	}
	return u
}

func mustParts(t *testing.T, s state.Store, id string) []state.Part {
	t.Helper()
	p, err := s.Parts(opCtx(t), id)
	if err != nil {
		t.Fatalf("Parts(%s): %v", id, err)
	}
	return p
}

func mustLock(t *testing.T, l state.Locker, id string) state.Lease {
	t.Helper()
	ls, err := l.Lock(opCtx(t), id)
	if err != nil {
		t.Fatalf("Lock(%s): %v", id, err)
	}
	t.Cleanup(func() { _ = ls.Unlock(context.Background()) })
	return ls
}

func mustUnlock(t *testing.T, ls state.Lease) {
	t.Helper()
	if err := ls.Unlock(opCtx(t)); err != nil {
		t.Fatalf("Unlock: %v", err)
	}
}

func mustCommit(t *testing.T, s state.Store, id string, tok state.Token, expect int64, ch state.Change) {
	t.Helper()
	if err := s.Commit(opCtx(t), id, tok, expect, ch); err != nil {
		t.Fatalf("Commit(%s, expect %d): %v", id, expect, err)
	}
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want one wrapping %q", what, err, target)
	}
}

// lockCtx is a context for a Lock that is expected to give up while the
// upload stays held; its deadline only bounds how long the test waits.
func lockCtx(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(eventWait):
		t.Fatalf("%s: not closed within %v", what, eventWait)
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

// sameUpload compares every stored field; Locked is a read-time hint and is
// checked separately.
func sameUpload(t *testing.T, got, want *state.Upload) {
	t.Helper()
	if got.ID != want.ID {
		t.Errorf("ID = %q, want %q", got.ID, want.ID)
	}
	if got.Length != want.Length {
		t.Errorf("Length = %d, want %d", got.Length, want.Length)
	}
	if got.Offset != want.Offset {
		t.Errorf("Offset = %d, want %d", got.Offset, want.Offset)
	}
	if got.Metadata != want.Metadata {
		t.Errorf("Metadata = %q, want %q", got.Metadata, want.Metadata)
	}
	if got.Concat != want.Concat {
		t.Errorf("Concat = %q, want %q", got.Concat, want.Concat)
	}
	if got.Partial != want.Partial {
		t.Errorf("Partial = %v, want %v", got.Partial, want.Partial)
	}
	if got.Owner != want.Owner {
		t.Errorf("Owner = %q, want %q", got.Owner, want.Owner)
	}
	if !slices.Equal(got.Partials, want.Partials) {
		t.Errorf("Partials = %q, want %q", got.Partials, want.Partials)
	}
	if !sameTime(got.CreatedAt, want.CreatedAt) {
		t.Errorf("CreatedAt = %v, want %v", got.CreatedAt, want.CreatedAt)
	}
	if !sameTime(got.ExpiresAt, want.ExpiresAt) {
		t.Errorf("ExpiresAt = %v, want %v", got.ExpiresAt, want.ExpiresAt)
	}
	if got.Finished != want.Finished {
		t.Errorf("Finished = %v, want %v", got.Finished, want.Finished)
	}
	if got.Stopped != want.Stopped || got.StopReason != want.StopReason {
		t.Errorf("Stopped = %v (%q), want %v (%q)", got.Stopped, got.StopReason, want.Stopped, want.StopReason)
	}
	// nil and empty Handle maps are equivalent.
	if !maps.Equal(got.Handle, want.Handle) {
		t.Errorf("Handle = %v, want %v", got.Handle, want.Handle)
	}
}

func sameTime(a, b time.Time) bool {
	if a.IsZero() || b.IsZero() {
		return a.IsZero() == b.IsZero()
	}
	return a.Equal(b)
}

func sameParts(t *testing.T, got, want []state.Part) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("Parts =\n  %+v\nwant\n  %+v", got, want)
	}
}
