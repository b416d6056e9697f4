package boltstore

import (
	"context"
	"errors"
	"maps"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/tusgate/tusgate/state"
	"github.com/tusgate/tusgate/test/statetest"
)

// testTTL is short so lapse-related behaviour shows within the suite's waits.
const testTTL = 500 * time.Millisecond

func openTest(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(path, Options{LeaseTTL: testTTL})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func harness() statetest.Harness {
	// One process owns the file, so there is no Peer: a second Open of the
	// same file is refused by bbolt's file lock.
	var cur *Store
	return statetest.Harness{
		New: func(t *testing.T) (state.Store, state.Locker) {
			s := openTest(t, filepath.Join(t.TempDir(), "state.db"))
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			cur = s
			return s, s
		},
		Expire: func(t *testing.T, id string) { cur.expireLease(id) },
	}
}

func TestStoreConformance(t *testing.T)  { statetest.RunStore(t, harness()) }
func TestLockerConformance(t *testing.T) { statetest.RunLocker(t, harness()) }
func TestQueueConformance(t *testing.T)  { statetest.RunQueue(t, harness()) }

func TestReopenKeepsRecordsAndManifest(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	base := time.Now().Truncate(time.Second)

	s := openTest(t, path)
	a := &state.Upload{
		ID: "0123456789abcdef0123456789abcdef", Length: -1, Metadata: "filename \xffYQ==",
		CreatedAt: base, ExpiresAt: base.Add(time.Hour), Handle: map[string]string{"uploadId": "u1"},
	}
	b := &state.Upload{
		ID: "fedcba9876543210fedcba9876543210", Length: 20, Concat: "final;/files/x /files/y",
		Partials: []string{"y", "x"}, CreatedAt: base,
	}
	for _, u := range []*state.Upload{a, b} {
		if err := s.Create(ctx, u.Clone()); err != nil {
			t.Fatalf("Create: %v", err)
		}
	}
	ls, err := s.Lock(ctx, a.ID)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	parts := []state.Part{
		{Number: 1, Offset: 0, Size: 5, ETag: "e1", Checksum: "c1"},
		{Number: 2, Offset: 5, Size: 5, ETag: "e2"},
	}
	length := int64(10)
	ch := state.Change{Offset: 10, Length: &length, Parts: parts, Handle: map[string]string{"tail": "t"}}
	if err := s.Commit(ctx, a.ID, ls.Token(), 0, ch); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	oldTok := ls.Token()
	_ = ls.Unlock(ctx)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = openTest(t, path)
	t.Cleanup(func() { _ = s.Close() })
	wantA := a.Clone()
	wantA.Apply(ch)
	for _, want := range []*state.Upload{wantA, b} {
		got, err := s.Get(ctx, want.ID)
		if err != nil {
			t.Fatalf("Get(%s) after reopen: %v", want.ID, err)
		}
		if !sameUpload(got, want) {
			t.Errorf("after reopen:\n got %+v\nwant %+v", got, want)
		}
	}
	gotParts, err := s.Parts(ctx, a.ID)
	if err != nil {
		t.Fatalf("Parts after reopen: %v", err)
	}
	if len(gotParts) != len(parts) || gotParts[0] != parts[0] || gotParts[1] != parts[1] {
		t.Errorf("Parts after reopen = %+v, want %+v", gotParts, parts)
	}
	ids, err := s.Expired(ctx, base.Add(2*time.Hour), 10)
	if err != nil || len(ids) != 1 || ids[0] != a.ID {
		t.Errorf("Expired after reopen = %q, %v; want [%s]", ids, err, a.ID)
	}
	// Tokens keep increasing across the restart.
	ls2, err := s.Lock(ctx, a.ID)
	if err != nil {
		t.Fatalf("Lock after reopen: %v", err)
	}
	defer func() { _ = ls2.Unlock(ctx) }()
	if ls2.Token() <= oldTok {
		t.Errorf("token after reopen %d, not above %d granted before", ls2.Token(), oldTok)
	}
}

func TestSecondOpenOfSameFileFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s := openTest(t, path)
	t.Cleanup(func() { _ = s.Close() })
	if _, err := Open(path, Options{OpenTimeout: 100 * time.Millisecond}); err == nil {
		t.Fatal("a second Open of a file in use succeeded")
	}
}

func TestClosedStoreIsUnavailableAndLosesLeases(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, filepath.Join(t.TempDir(), "state.db"))
	ls, err := s.Lock(ctx, "a")
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case <-ls.Lost().Done():
	default:
		t.Error("lease not Lost after Close")
	}
	if _, err := s.Get(ctx, "a"); !errors.Is(err, state.ErrUnavailable) {
		t.Errorf("Get after Close: %v, want ErrUnavailable", err)
	}
	if _, err := s.Lock(ctx, "b"); !errors.Is(err, state.ErrUnavailable) {
		t.Errorf("Lock after Close: %v, want ErrUnavailable", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func sameUpload(a, b *state.Upload) bool {
	return a.ID == b.ID && a.Length == b.Length && a.Offset == b.Offset &&
		a.Metadata == b.Metadata && a.Concat == b.Concat && a.Partial == b.Partial &&
		slices.Equal(a.Partials, b.Partials) && a.CreatedAt.Equal(b.CreatedAt) &&
		a.ExpiresAt.Equal(b.ExpiresAt) && a.Finished == b.Finished && maps.Equal(a.Handle, b.Handle)
}

// The store's instance name is the holder of every lease it grants, and
// waiters tell the observer of release requests and how they took over.
func TestHolderNameAndObserver(t *testing.T) {
	var ev statetest.LockEvents
	s, err := Open(filepath.Join(t.TempDir(), "state.db"), Options{LeaseTTL: testTTL, InstanceName: "single-1", Observer: &ev})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ctx := context.Background()
	id := "b0000000000000000000000000000001"
	if err := s.Create(ctx, &state.Upload{ID: id, Length: 10}); err != nil {
		t.Fatal(err)
	}
	if u, err := s.Get(ctx, id); err != nil || u.Locked || u.Holder != "" {
		t.Fatalf("free upload: %+v, %v; want no holder", u, err)
	}
	a, err := s.Lock(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if u, err := s.Get(ctx, id); err != nil || !u.Locked || u.Holder != "single-1" {
		t.Fatalf("held upload: %+v, %v; want locked by single-1", u, err)
	}
	go func() {
		<-a.ReleaseRequested().Done()
		_ = a.Unlock(ctx)
	}()
	if _, err = s.Lock(ctx, id); err != nil {
		t.Fatal(err)
	}
	if sent, tk := ev.Counts(); sent != 1 || tk[state.TakeoverReleased] != 1 {
		t.Fatalf("after a released takeover: sent %d, takeovers %v; want 1, released 1", sent, tk)
	}
	// b's holder was paused past its lease: the deadline passed unrenewed.
	s.mu.Lock()
	s.grants[id].deadline = time.Now().Add(-time.Second)
	s.mu.Unlock()
	c, err := s.Lock(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Unlock(ctx)
	if _, tk := ev.Counts(); tk[state.TakeoverLapsed] != 1 {
		t.Fatalf("after a lapsed lease: takeovers %v, want lapsed 1", tk)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "x.db"), Options{InstanceName: "no:colons"}); err == nil {
		t.Error("Open accepted the instance name no:colons")
	}
}
