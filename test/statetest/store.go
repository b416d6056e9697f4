package statetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tusgate/tusgate/state"
)

var storeTests = []suiteTest{
	{name: "PingSucceeds", run: testPing},
	{name: "CreateThenGetRoundTripsEveryField", run: testRoundTrip},
	{name: "MetadataAndConcatKeptByteForByte", run: testRawHeaders},
	{name: "CreateTwiceIsErrExists", run: testCreateTwice},
	{name: "GetUnknownIsErrNotFound", run: testGetUnknown},
	{name: "CommitAppliesChangeLikeApply", run: testCommitApply},
	{name: "CommitDeclaresLengthOnlyWhenDeferred", run: testCommitLength},
	{name: "FinishedIsSticky", run: testFinishedSticky},
	{name: "PartsAppendedReplacedAndOrderedByNumber", run: testParts},
	{name: "CommitWithWrongOffsetIsErrConflictAndChangesNothing", run: testConflict},
	{name: "CommitWithStaleTokenIsErrFencedAndChangesNothing", run: testCommitFenced},
	{name: "DeleteWithStaleTokenIsErrFencedAndKeepsRecord", run: testDeleteFenced},
	{name: "CommitOnUnknownIsErrNotFound", run: testCommitUnknown},
	{name: "DeleteRemovesRecordManifestAndExpiry", run: testDelete},
	{name: "ExpiredReturnsOnlyUnfinishedPastExpiry", run: testExpired},
	{name: "ExpiredRespectsLimit", run: testExpiredLimit},
	{name: "ExpiredReturnsTerminatedEvenWhenFinished", run: testExpiredTerminated},
	{name: "GetReportsLockedWhileLeaseHeld", run: testLockedHint},
	{name: "ConcurrentCommitsLoseNoUpdate", run: testConcurrentCommits},
	{name: "StopMarksUnfinishedUploadWhileAnotherHoldsTheLease", run: testStop},
}

// testStop: Stop needs no lease (the holder may be streaming), keeps
// everything else of the record, survives the holder's commits, leaves a
// finished upload alone and reports an unknown one.
func testStop(t *testing.T, h Harness) {
	s, l := h.New(t)
	u := newUpload(t, baseTime())
	mustCreate(t, s, u)
	holder := mustLock(t, l, u.ID)
	if err := s.Stop(opCtx(t), u.ID, `{"Body":"quota"}`); err != nil {
		t.Fatalf("Stop while another holds the lease: %v", err)
	}
	want := u.Clone()
	want.Stopped, want.StopReason = true, `{"Body":"quota"}`
	sameUpload(t, mustGet(t, s, u.ID), want)
	commitAndCheck(t, s, holder.Token(), want, state.Change{Offset: 10})
	// The first reason stays.
	if err := s.Stop(opCtx(t), u.ID, "later"); err != nil {
		t.Fatalf("Stop of a stopped upload: %v", err)
	}
	sameUpload(t, mustGet(t, s, u.ID), want)

	fin := newUpload(t, baseTime())
	fin.Offset, fin.Length, fin.Finished = 5, 5, true
	mustCreate(t, s, fin)
	if err := s.Stop(opCtx(t), fin.ID, ""); err != nil {
		t.Fatalf("Stop of a finished upload: %v", err)
	}
	sameUpload(t, mustGet(t, s, fin.ID), fin)
	wantErr(t, "Stop of an unknown upload", s.Stop(opCtx(t), newID(t), ""), state.ErrNotFound)
}

func testPing(t *testing.T, h Harness) {
	s, _ := h.New(t)
	if err := s.Ping(opCtx(t)); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func testRoundTrip(t *testing.T, h Harness) {
	s, _ := h.New(t)
	base := baseTime()
	partialA, partialB, partialC := newID(t), newID(t), newID(t)
	cases := map[string]*state.Upload{
		"plain": newUpload(t, base),
		"deferred length, no handle, never expires": {
			ID: newID(t), Length: -1, CreatedAt: base,
		},
		"partial": {
			ID: newID(t), Length: 10, Concat: "partial", Partial: true,
			CreatedAt: base, ExpiresAt: base.Add(time.Hour),
			Handle: map[string]string{"key": "p"},
		},
		"final, finished, nonzero offset": {
			ID: newID(t), Length: 30, Offset: 30,
			Concat:   "final;/files/" + partialC + " /files/" + partialA + " /files/" + partialB,
			Partials: []string{partialC, partialA, partialB},
			// Created an hour ago: a CreatedAt that differs from now.
			CreatedAt: base.Add(-time.Hour), Finished: true,
			Handle: map[string]string{"key": "objects/final", "size": "30"},
		},
	}
	for name, u := range cases {
		t.Run(name, func(t *testing.T) {
			mustCreate(t, s, u)
			got := mustGet(t, s, u.ID)
			sameUpload(t, got, u)
			if got.Locked {
				t.Error("Locked = true on an upload nobody locked")
			}
			if p := mustParts(t, s, u.ID); len(p) != 0 {
				t.Errorf("new upload has parts %+v", p)
			}
		})
	}
}

func testRawHeaders(t *testing.T, h Harness) {
	s, _ := h.New(t)
	raws := []string{
		"",
		"key",
		"filename d29ybGQudHh0,empty,  spaced   dmFs ,trail,",
		"weird \"quoted\" \\back\\slash\ttab",
		"utf8 w7bDpMO8,name ☃",
		"invalid-utf8 \xff\xfe\x80",
	}
	for i, raw := range raws {
		t.Run(fmt.Sprintf("case%d", i), func(t *testing.T) {
			u := newUpload(t, baseTime())
			u.Metadata = raw
			u.Concat = raw
			mustCreate(t, s, u)
			got := mustGet(t, s, u.ID)
			if got.Metadata != raw {
				t.Errorf("Metadata = %q, want %q", got.Metadata, raw)
			}
			if got.Concat != raw {
				t.Errorf("Concat = %q, want %q", got.Concat, raw)
			}
		})
	}
}

func testCreateTwice(t *testing.T, h Harness) {
	s, _ := h.New(t)
	u := newUpload(t, baseTime())
	mustCreate(t, s, u)
	other := u.Clone()
	other.Length = 99
	other.Metadata = "other"
	wantErr(t, "second Create", s.Create(opCtx(t), other), state.ErrExists)
	sameUpload(t, mustGet(t, s, u.ID), u)
}

func testGetUnknown(t *testing.T, h Harness) {
	s, _ := h.New(t)
	u, err := s.Get(opCtx(t), newID(t))
	wantErr(t, "Get of unknown ID", err, state.ErrNotFound)
	if u != nil {
		t.Errorf("Get of unknown ID returned a record: %+v", u)
	}
}

// commitAndCheck commits ch to the store and applies it to want with
// (*state.Upload).Apply; the stored record must then equal want.
func commitAndCheck(t *testing.T, s state.Store, tok state.Token, want *state.Upload, ch state.Change) {
	t.Helper()
	mustCommit(t, s, want.ID, tok, want.Offset, ch)
	want.Apply(ch)
	sameUpload(t, mustGet(t, s, want.ID), want)
}

func testCommitApply(t *testing.T, h Harness) {
	s, l := h.New(t)
	base := baseTime()
	u := newUpload(t, base)
	u.Handle = map[string]string{"a": "1", "b": "2"}
	mustCreate(t, s, u)
	ls := mustLock(t, l, u.ID)
	tok := ls.Token()
	want := u.Clone()

	t.Run("offset only", func(t *testing.T) {
		commitAndCheck(t, s, tok, want, state.Change{Offset: 100})
	})
	t.Run("same offset is allowed", func(t *testing.T) {
		commitAndCheck(t, s, tok, want, state.Change{Offset: 100})
	})
	t.Run("handle merge, empty value deletes", func(t *testing.T) {
		commitAndCheck(t, s, tok, want, state.Change{
			Offset: 200,
			Handle: map[string]string{"b": "", "c": "3", "a": "1b"},
		})
	})
	t.Run("delete of absent handle key", func(t *testing.T) {
		commitAndCheck(t, s, tok, want, state.Change{Offset: 200, Handle: map[string]string{"zz": ""}})
	})
	t.Run("expiry moved", func(t *testing.T) {
		commitAndCheck(t, s, tok, want, state.Change{Offset: 300, ExpiresAt: ptr(base.Add(48 * time.Hour))})
	})
	t.Run("nil expiry leaves it", func(t *testing.T) {
		commitAndCheck(t, s, tok, want, state.Change{Offset: 400})
	})
	t.Run("zero expiry clears it", func(t *testing.T) {
		commitAndCheck(t, s, tok, want, state.Change{Offset: 500, ExpiresAt: ptr(time.Time{})})
	})
	t.Run("expiry set again after clearing", func(t *testing.T) {
		commitAndCheck(t, s, tok, want, state.Change{Offset: 500, ExpiresAt: ptr(base.Add(time.Hour))})
	})
	t.Run("everything at once", func(t *testing.T) {
		commitAndCheck(t, s, tok, want, state.Change{
			Offset:    1 << 20,
			Length:    ptr(int64(5)), // ignored: the length is not deferred
			Parts:     []state.Part{{Number: 1, Offset: 0, Size: 1 << 20, ETag: "e1"}},
			Handle:    map[string]string{"c": "", "final": "yes"},
			ExpiresAt: ptr(time.Time{}),
			Finished:  true,
		})
	})

	t.Run("handle on an upload created without one", func(t *testing.T) {
		v := newUpload(t, base)
		v.Handle = nil
		mustCreate(t, s, v)
		lv := mustLock(t, l, v.ID)
		wantV := v.Clone()
		commitAndCheck(t, s, lv.Token(), wantV, state.Change{Offset: 1, Handle: map[string]string{"k": "v"}})
	})
}

func testCommitLength(t *testing.T, h Harness) {
	s, l := h.New(t)
	base := baseTime()

	deferred := newUpload(t, base)
	deferred.Length = -1
	mustCreate(t, s, deferred)
	ls := mustLock(t, l, deferred.ID)
	want := deferred.Clone()
	commitAndCheck(t, s, ls.Token(), want, state.Change{Offset: 10})
	if got := mustGet(t, s, deferred.ID); got.Length != -1 {
		t.Fatalf("Length = %d after a commit without Length, want -1 (deferred)", got.Length)
	}
	commitAndCheck(t, s, ls.Token(), want, state.Change{Offset: 10, Length: ptr(int64(4096))})
	if got := mustGet(t, s, deferred.ID); got.Length != 4096 {
		t.Fatalf("Length = %d, want 4096 declared by the commit", got.Length)
	}
	// Once declared, the length never changes again.
	commitAndCheck(t, s, ls.Token(), want, state.Change{Offset: 20, Length: ptr(int64(8192))})
	if got := mustGet(t, s, deferred.ID); got.Length != 4096 {
		t.Fatalf("Length = %d after a second declaration, want 4096", got.Length)
	}

	known := newUpload(t, base)
	mustCreate(t, s, known)
	lk := mustLock(t, l, known.ID)
	wantK := known.Clone()
	commitAndCheck(t, s, lk.Token(), wantK, state.Change{Offset: 1, Length: ptr(int64(7))})
	if got := mustGet(t, s, known.ID); got.Length != known.Length {
		t.Fatalf("Length = %d, want %d: a known length must not change", got.Length, known.Length)
	}
}

func testFinishedSticky(t *testing.T, h Harness) {
	s, l := h.New(t)
	u := newUpload(t, baseTime())
	u.Length = 10
	mustCreate(t, s, u)
	ls := mustLock(t, l, u.ID)
	want := u.Clone()
	commitAndCheck(t, s, ls.Token(), want, state.Change{Offset: 10, Finished: true})
	commitAndCheck(t, s, ls.Token(), want, state.Change{Offset: 10, Finished: false})
	if !mustGet(t, s, u.ID).Finished {
		t.Fatal("Finished was unset by a later commit")
	}
}

func testParts(t *testing.T, h Harness) {
	s, l := h.New(t)
	u := newUpload(t, baseTime())
	mustCreate(t, s, u)
	ls := mustLock(t, l, u.ID)
	tok := ls.Token()
	part := func(n int, etag string) state.Part {
		return state.Part{Number: n, Offset: int64(n-1) * 5, Size: 5, ETag: etag, Checksum: "sha1:" + etag}
	}
	// Numbers chosen so that byte-wise or string ordering would be wrong.
	mustCommit(t, s, u.ID, tok, 0, state.Change{Offset: 5, Parts: []state.Part{part(300, "a300")}})
	mustCommit(t, s, u.ID, tok, 5, state.Change{Offset: 10, Parts: []state.Part{part(2, "a2"), part(10000, "a10000")}})
	mustCommit(t, s, u.ID, tok, 10, state.Change{Offset: 15, Parts: []state.Part{part(10, "a10"), part(1, "a1")}})
	sameParts(t, mustParts(t, s, u.ID), []state.Part{
		part(1, "a1"), part(2, "a2"), part(10, "a10"), part(300, "a300"), part(10000, "a10000"),
	})

	// A retried part replaces the earlier attempt with the same Number.
	replaced := state.Part{Number: 10, Offset: 45, Size: 7, ETag: "b10"}
	mustCommit(t, s, u.ID, tok, 15, state.Change{Offset: 20, Parts: []state.Part{replaced}})
	sameParts(t, mustParts(t, s, u.ID), []state.Part{
		part(1, "a1"), part(2, "a2"), replaced, part(300, "a300"), part(10000, "a10000"),
	})

	// Parts of another upload are not mixed in.
	v := newUpload(t, baseTime())
	mustCreate(t, s, v)
	if p := mustParts(t, s, v.ID); len(p) != 0 {
		t.Fatalf("Parts of a fresh upload = %+v, want none", p)
	}
	// Get does not need the manifest and the record is unaffected by it.
	if got := mustGet(t, s, u.ID); got.Offset != 20 {
		t.Fatalf("Offset = %d, want 20", got.Offset)
	}
}

func testConflict(t *testing.T, h Harness) {
	s, l := h.New(t)
	u := newUpload(t, baseTime())
	mustCreate(t, s, u)
	ls := mustLock(t, l, u.ID)
	mustCommit(t, s, u.ID, ls.Token(), 0, state.Change{Offset: 10, Parts: []state.Part{{Number: 1, Size: 10, ETag: "x"}}})
	before := mustGet(t, s, u.ID)
	beforeParts := mustParts(t, s, u.ID)

	for _, expect := range []int64{0, 5, 11} {
		err := s.Commit(opCtx(t), u.ID, ls.Token(), expect, state.Change{
			Offset:    20,
			Length:    ptr(int64(1)),
			Parts:     []state.Part{{Number: 1, Size: 1, ETag: "bad"}, {Number: 2, Size: 10, ETag: "bad"}},
			Handle:    map[string]string{"uploadId": "", "new": "x"},
			ExpiresAt: ptr(time.Time{}),
			Finished:  true,
		})
		wantErr(t, fmt.Sprintf("Commit expecting offset %d while it is 10", expect), err, state.ErrConflict)
	}
	sameUpload(t, mustGet(t, s, u.ID), before)
	sameParts(t, mustParts(t, s, u.ID), beforeParts)
}

// rejectedChange touches every field, so a partly applied commit shows.
func rejectedChange(from int64) state.Change {
	return state.Change{
		Offset:    from + 10,
		Length:    ptr(int64(1)),
		Parts:     []state.Part{{Number: 1, Size: 10, ETag: "fenced"}},
		Handle:    map[string]string{"uploadId": "", "fenced": "x"},
		ExpiresAt: ptr(time.Time{}),
		Finished:  true,
	}
}

func testCommitFenced(t *testing.T, h Harness) {
	s, l := h.New(t)
	u := newUpload(t, baseTime())
	u.Length = -1
	mustCreate(t, s, u)
	check := func(t *testing.T, what string, tok state.Token) {
		t.Helper()
		before := mustGet(t, s, u.ID)
		beforeParts := mustParts(t, s, u.ID)
		err := s.Commit(opCtx(t), u.ID, tok, before.Offset, rejectedChange(before.Offset))
		wantErr(t, what, err, state.ErrFenced)
		sameUpload(t, mustGet(t, s, u.ID), before)
		sameParts(t, mustParts(t, s, u.ID), beforeParts)
	}

	first, err := l.Lock(opCtx(t), u.ID)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	old := first.Token()
	mustCommit(t, s, u.ID, old, 0, state.Change{Offset: 5})
	mustUnlock(t, first)
	check(t, "Commit with no lease held", old)

	second := mustLock(t, l, u.ID)
	check(t, "Commit with the previous grant's token", old)
	check(t, "Commit with a token above the current grant", second.Token()+1)
	check(t, "Commit with token 0", 0)
	// The current holder is unaffected by the rejected commits.
	mustCommit(t, s, u.ID, second.Token(), 5, state.Change{Offset: 6})
}

func testDeleteFenced(t *testing.T, h Harness) {
	s, l := h.New(t)
	u := newUpload(t, baseTime())
	mustCreate(t, s, u)
	first, err := l.Lock(opCtx(t), u.ID)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	old := first.Token()
	mustCommit(t, s, u.ID, old, 0, state.Change{Offset: 5, Parts: []state.Part{{Number: 1, Size: 5, ETag: "e"}}})
	mustUnlock(t, first)
	wantErr(t, "Delete with no lease held", s.Delete(opCtx(t), u.ID, old), state.ErrFenced)
	second := mustLock(t, l, u.ID)
	wantErr(t, "Delete with the previous grant's token", s.Delete(opCtx(t), u.ID, old), state.ErrFenced)
	wantErr(t, "Delete with a token above the current grant", s.Delete(opCtx(t), u.ID, second.Token()+1), state.ErrFenced)

	want := u.Clone()
	want.Offset = 5
	sameUpload(t, mustGet(t, s, u.ID), want)
	sameParts(t, mustParts(t, s, u.ID), []state.Part{{Number: 1, Size: 5, ETag: "e"}})
}

func testCommitUnknown(t *testing.T, h Harness) {
	s, l := h.New(t)
	id := newID(t)
	ls := mustLock(t, l, id)
	err := s.Commit(opCtx(t), id, ls.Token(), 0, state.Change{Offset: 1, Parts: []state.Part{{Number: 1, Size: 1}}})
	wantErr(t, "Commit on an unknown ID", err, state.ErrNotFound)
	_, err = s.Get(opCtx(t), id)
	wantErr(t, "Get after a Commit on an unknown ID", err, state.ErrNotFound)
}

func testDelete(t *testing.T, h Harness) {
	s, l := h.New(t)
	base := baseTime()
	u := newUpload(t, base)
	u.ExpiresAt = base.Add(time.Hour)
	keep := newUpload(t, base)
	keep.ExpiresAt = base.Add(time.Hour)
	mustCreate(t, s, u)
	mustCreate(t, s, keep)
	ls := mustLock(t, l, u.ID)
	mustCommit(t, s, u.ID, ls.Token(), 0, state.Change{Offset: 5, Parts: []state.Part{{Number: 1, Size: 5, ETag: "e"}}})

	if err := s.Delete(opCtx(t), u.ID, ls.Token()); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err := s.Get(opCtx(t), u.ID)
	wantErr(t, "Get after Delete", err, state.ErrNotFound)
	ids, err := s.Expired(opCtx(t), base.Add(2*time.Hour), 100)
	if err != nil {
		t.Fatalf("Expired: %v", err)
	}
	if !slices.Equal(ids, []string{keep.ID}) {
		t.Fatalf("Expired after Delete = %q, want only %q", ids, keep.ID)
	}
	sameUpload(t, mustGet(t, s, keep.ID), keep)

	// The manifest went with the record: a new upload under the same ID
	// starts with none.
	mustCreate(t, s, u)
	if p := mustParts(t, s, u.ID); len(p) != 0 {
		t.Fatalf("Parts after Delete and re-Create = %+v, want none", p)
	}
	sameUpload(t, mustGet(t, s, u.ID), u)
}

func expiredSet(t *testing.T, s state.Store, now time.Time, limit int) []string {
	t.Helper()
	ids, err := s.Expired(opCtx(t), now, limit)
	if err != nil {
		t.Fatalf("Expired: %v", err)
	}
	slices.Sort(ids)
	return ids
}

func sortedIDs(us ...*state.Upload) []string {
	ids := make([]string, 0, len(us))
	for _, u := range us {
		ids = append(ids, u.ID)
	}
	slices.Sort(ids)
	return ids
}

func testExpired(t *testing.T, h Harness) {
	s, l := h.New(t)
	base := baseTime()
	now := base.Add(150 * time.Minute)
	// at(d) creates an upload expiring at base+d; at(never) one that never
	// expires.
	const never = time.Duration(-1)
	at := func(d time.Duration) *state.Upload {
		u := newUpload(t, base)
		u.ExpiresAt = base.Add(d)
		if d == never {
			u.ExpiresAt = time.Time{}
		}
		mustCreate(t, s, u)
		return u
	}
	expired1 := at(time.Hour)
	expired2 := at(2 * time.Hour)
	_ = at(3 * time.Hour) // not yet expired at now
	_ = at(never)
	finishedAtCreate := newUpload(t, base)
	finishedAtCreate.ExpiresAt = base.Add(time.Hour)
	finishedAtCreate.Finished = true
	mustCreate(t, s, finishedAtCreate)

	if got := expiredSet(t, s, base, 100); len(got) != 0 {
		t.Fatalf("Expired(before any expiry) = %q, want none", got)
	}

	commit := func(u *state.Upload, ch state.Change) {
		ls := mustLock(t, l, u.ID)
		mustCommit(t, s, u.ID, ls.Token(), u.Offset, ch)
		mustUnlock(t, ls)
	}
	finishedByCommit := at(time.Hour)
	commit(finishedByCommit, state.Change{Offset: 0, Finished: true})
	movedLater := at(30 * time.Minute)
	commit(movedLater, state.Change{Offset: 0, ExpiresAt: ptr(base.Add(5 * time.Hour))})
	movedEarlier := at(5 * time.Hour)
	commit(movedEarlier, state.Change{Offset: 0, ExpiresAt: ptr(base.Add(30 * time.Minute))})
	cleared := at(time.Hour)
	commit(cleared, state.Change{Offset: 0, ExpiresAt: ptr(time.Time{})})
	setLater := at(never)
	commit(setLater, state.Change{Offset: 0, ExpiresAt: ptr(base.Add(10 * time.Minute))})
	// A commit that leaves ExpiresAt alone keeps the upload in the index.
	untouched := at(time.Hour)
	commit(untouched, state.Change{Offset: 1, Handle: map[string]string{"x": "y"}})

	want := sortedIDs(expired1, expired2, movedEarlier, setLater, untouched)
	if got := expiredSet(t, s, now, 100); !slices.Equal(got, want) {
		t.Fatalf("Expired(now) = %q, want %q", got, want)
	}
}

// testExpiredTerminated: a termination marks the record before anything is
// deleted, so that the sweeper completes a removal a crash cut short, also
// for finished uploads, which are otherwise never in the expiry index.
func testExpiredTerminated(t *testing.T, h Harness) {
	s, l := h.New(t)
	base := baseTime()
	terminate := func(u *state.Upload) {
		ls := mustLock(t, l, u.ID)
		mustCommit(t, s, u.ID, ls.Token(), u.Offset, state.Change{Offset: u.Offset, ExpiresAt: ptr(state.TerminatedAt)})
		mustUnlock(t, ls)
	}
	finished := newUpload(t, base)
	mustCreate(t, s, finished)
	ls := mustLock(t, l, finished.ID)
	mustCommit(t, s, finished.ID, ls.Token(), 0, state.Change{Offset: 0, Finished: true, ExpiresAt: ptr(time.Time{})})
	mustUnlock(t, ls)
	unfinished := newUpload(t, base)
	unfinished.ExpiresAt = base.Add(24 * time.Hour)
	mustCreate(t, s, unfinished)
	if got := expiredSet(t, s, base, 100); len(got) != 0 {
		t.Fatalf("Expired before termination = %q, want none", got)
	}
	terminate(finished)
	terminate(unfinished)
	want := sortedIDs(finished, unfinished)
	if got := expiredSet(t, s, base, 100); !slices.Equal(got, want) {
		t.Fatalf("Expired after termination = %q, want %q", got, want)
	}
	got, err := s.Get(opCtx(t), finished.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if !got.Terminated() || !got.Finished {
		t.Fatalf("terminated finished record reads back Terminated=%v Finished=%v", got.Terminated(), got.Finished)
	}
}

func testExpiredLimit(t *testing.T, h Harness) {
	s, _ := h.New(t)
	base := baseTime()
	var all []*state.Upload
	for i := range 5 {
		u := newUpload(t, base)
		u.ExpiresAt = base.Add(time.Duration(i+1) * time.Minute)
		mustCreate(t, s, u)
		all = append(all, u)
	}
	allIDs := sortedIDs(all...)
	now := base.Add(time.Hour)
	for _, limit := range []int{1, 2, 4} {
		got := expiredSet(t, s, now, limit)
		if len(got) != limit {
			t.Fatalf("Expired(limit %d) returned %d IDs: %q", limit, len(got), got)
		}
		if len(slices.Compact(slices.Clone(got))) != len(got) {
			t.Fatalf("Expired(limit %d) returned duplicates: %q", limit, got)
		}
		for _, id := range got {
			if !slices.Contains(allIDs, id) {
				t.Fatalf("Expired(limit %d) returned unknown ID %q", limit, id)
			}
		}
	}
	if got := expiredSet(t, s, now, 10); !slices.Equal(got, allIDs) {
		t.Fatalf("Expired(limit 10) = %q, want all %q", got, allIDs)
	}
}

func testLockedHint(t *testing.T, h Harness) {
	s, l := h.New(t)
	u := newUpload(t, baseTime())
	mustCreate(t, s, u)
	if mustGet(t, s, u.ID).Locked {
		t.Fatal("Locked = true before any Lock")
	}
	ls, err := l.Lock(opCtx(t), u.ID)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	got := mustGet(t, s, u.ID)
	if !got.Locked {
		t.Fatal("Locked = false while a lease is held")
	}
	sameUpload(t, got, u)
	mustUnlock(t, ls)
	if mustGet(t, s, u.ID).Locked {
		t.Fatal("Locked = true after Unlock")
	}
}

func testConcurrentCommits(t *testing.T, h Harness) {
	s, l := h.New(t)
	u := newUpload(t, baseTime())
	u.Handle = nil
	mustCreate(t, s, u)
	ls := mustLock(t, l, u.ID)
	tok := ls.Token()

	const workers = 16
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			// Read-then-commit, retrying on ErrConflict: only an atomic
			// compare of the offset keeps every worker's change.
			for {
				cur, err := s.Get(opCtx(t), u.ID)
				if err != nil {
					errs <- fmt.Errorf("worker %d Get: %w", w, err)
					return
				}
				err = s.Commit(opCtx(t), u.ID, tok, cur.Offset, state.Change{
					Offset: cur.Offset + 1,
					Parts:  []state.Part{{Number: w + 1, Offset: int64(w), Size: 1, ETag: fmt.Sprint(w)}},
					Handle: map[string]string{fmt.Sprintf("w%02d", w): "done"},
				})
				if err == nil {
					return
				}
				if !errors.Is(err, state.ErrConflict) {
					errs <- fmt.Errorf("worker %d Commit: %w", w, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got := mustGet(t, s, u.ID)
	if got.Offset != workers {
		t.Errorf("Offset = %d after %d successful +1 commits", got.Offset, workers)
	}
	if len(got.Handle) != workers {
		t.Errorf("Handle has %d keys, want %d: %v", len(got.Handle), workers, got.Handle)
	}
	if p := mustParts(t, s, u.ID); len(p) != workers {
		t.Errorf("manifest has %d parts, want %d", len(p), workers)
	}
}
