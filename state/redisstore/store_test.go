package redisstore_test

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/tusgate/tusgate/state"
	"github.com/tusgate/tusgate/test/testenv"
)

func ptr[T any](v T) *T { return &v }

func TestRecordRoundTrip(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testenv.RedisURL(t))
	s := e.open(t)
	ctx := ctxT(t)
	id := newID(t)
	want := &state.Upload{
		ID: id, Length: -1, Metadata: "filename d29ybGQ=,is_confidential",
		Concat: "final;/files/a /files/b", Partials: []string{"a", "b"},
		CreatedAt: time.Now().Truncate(time.Nanosecond), ExpiresAt: time.Now().Add(time.Hour),
		Handle: map[string]string{"uploadId": "xyz", "key": "obj/1"},
	}
	if err := s.Create(ctx, want); err != nil {
		t.Fatalf("create: %v", err)
	}
	got, err := s.Get(ctx, id)
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if got.ID != id || got.Length != -1 || got.Offset != 0 || got.Metadata != want.Metadata ||
		got.Concat != want.Concat || got.Partial || got.Finished || got.Locked ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) ||
		len(got.Partials) != 2 || got.Partials[0] != "a" || got.Partials[1] != "b" ||
		!maps.Equal(got.Handle, want.Handle) {
		t.Fatalf("get = %+v, want %+v", got, want)
	}
	if err := s.Create(ctx, want); !errors.Is(err, state.ErrExists) {
		t.Fatalf("second create: %v, want ErrExists", err)
	}
	if _, err := s.Get(ctx, newID(t)); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("get unknown: %v, want ErrNotFound", err)
	}
	if _, err := s.Parts(ctx, newID(t)); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("parts of unknown: %v, want ErrNotFound", err)
	}
}

func TestCommitAppliesChange(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testenv.RedisURL(t))
	s := e.open(t)
	ctx := ctxT(t)
	id := newID(t)
	l := createLocked(t, ctx, s, &state.Upload{ID: id, Length: -1, Handle: map[string]string{"a": "1", "b": "2"}})
	defer l.Unlock(ctx)
	exp := time.Now().Add(time.Hour)
	err := s.Commit(ctx, id, l.Token(), 0, state.Change{
		Offset: 10, Length: ptr(int64(30)), ExpiresAt: &exp,
		Handle: map[string]string{"a": "", "c": "3"},
		Parts:  []state.Part{{Number: 2, Offset: 5, Size: 5, ETag: "e2"}, {Number: 1, Offset: 0, Size: 5, ETag: "e1", Checksum: "sha1 x"}},
	})
	if err != nil {
		t.Fatalf("commit: %v", err)
	}
	// A second declared length is ignored, like (*state.Upload).Apply does;
	// a part with an existing number replaces it.
	err = s.Commit(ctx, id, l.Token(), 10, state.Change{
		Offset: 30, Length: ptr(int64(99)), Finished: true,
		Parts: []state.Part{{Number: 2, Offset: 5, Size: 25, ETag: "e2b"}},
	})
	if err != nil {
		t.Fatalf("second commit: %v", err)
	}
	got, err := s.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Offset != 30 || got.Length != 30 || !got.Finished || !got.ExpiresAt.Equal(exp) || !got.Locked ||
		!maps.Equal(got.Handle, map[string]string{"b": "2", "c": "3"}) {
		t.Fatalf("after commits: %+v", got)
	}
	parts, err := s.Parts(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := []state.Part{{Number: 1, Offset: 0, Size: 5, ETag: "e1", Checksum: "sha1 x"}, {Number: 2, Offset: 5, Size: 25, ETag: "e2b"}}
	if len(parts) != len(want) || parts[0] != want[0] || parts[1] != want[1] {
		t.Fatalf("parts = %+v, want %+v", parts, want)
	}
	if err := s.Commit(ctx, id, l.Token(), 10, state.Change{Offset: 40}); !errors.Is(err, state.ErrConflict) {
		t.Fatalf("commit with stale offset: %v, want ErrConflict", err)
	}
	if err := s.Commit(ctx, newID(t), l.Token(), 0, state.Change{Offset: 1}); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("commit to unknown upload: %v, want ErrNotFound", err)
	}
}

// TestKeyLifetimes checks the TTLs that make Redis forget records by itself.
func TestKeyLifetimes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testenv.RedisURL(t))
	s := e.open(t)
	ctx := ctxT(t)
	never, expiring := newID(t), newID(t)
	if err := s.Create(ctx, &state.Upload{ID: never, Length: 5}); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, &state.Upload{ID: expiring, Length: 5, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if ttl := e.raw.PTTL(ctx, e.key(never, "u")).Val(); ttl != -1 {
		t.Fatalf("record without expiry has TTL %v, want none", ttl)
	}
	// Expiry (1h) plus the default grace (24h).
	if ttl := e.raw.PTTL(ctx, e.key(expiring, "u")).Val(); ttl < 24*time.Hour || ttl > 25*time.Hour {
		t.Fatalf("expiring record TTL %v, want 1h + 24h grace", ttl)
	}
	l, err := s.Lock(ctx, expiring)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock(ctx)
	if err := s.Commit(ctx, expiring, l.Token(), 0, state.Change{Offset: 5, Finished: true, Parts: []state.Part{{Number: 1, Size: 5}}}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"u", "p", "f"} {
		// Finished: the default retention (7 days), for record, manifest and fence.
		if ttl := e.raw.PTTL(ctx, e.key(expiring, k)).Val(); ttl < 7*24*time.Hour-time.Minute || ttl > 7*24*time.Hour {
			t.Fatalf("finished upload key %s TTL %v, want 7 days", k, ttl)
		}
	}
}

func TestExpired(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testenv.RedisURL(t))
	s := e.open(t)
	ctx := ctxT(t)
	now := time.Now()
	past := now.Add(-time.Hour)
	mk := func(exp time.Time) string {
		id := newID(t)
		if err := s.Create(ctx, &state.Upload{ID: id, Length: 10, ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
		return id
	}
	commit := func(id string, ch state.Change) {
		l, err := s.Lock(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Unlock(ctx)
		if err := s.Commit(ctx, id, l.Token(), 0, ch); err != nil {
			t.Fatal(err)
		}
	}
	expiredA, expiredB := mk(past), mk(past.Add(time.Minute))
	mk(now.Add(time.Hour)) // not yet
	never := mk(time.Time{})
	finished := mk(past)
	commit(finished, state.Change{Offset: 10, Finished: true})
	extended := mk(past)
	commit(extended, state.Change{Offset: 1, ExpiresAt: ptr(now.Add(time.Hour))})
	deleted := mk(past)
	l, err := s.Lock(ctx, deleted)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, deleted, l.Token()); err != nil {
		t.Fatal(err)
	}
	_ = l.Unlock(ctx)
	// Stale index entries, as left by writes refused after their index
	// update or by a crash: the records do not expire at that time.
	for _, id := range []string{extended, finished, never, deleted, newID(t)} {
		if err := e.raw.ZAdd(ctx, e.prefix+":expiry", redisZ(past, id)).Err(); err != nil {
			t.Fatal(err)
		}
	}

	got, err := s.Expired(ctx, now, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != expiredA || got[1] != expiredB {
		t.Fatalf("expired = %v, want [%s %s] (oldest first)", got, expiredA, expiredB)
	}
	got, err = s.Expired(ctx, now, 1)
	if err != nil || len(got) != 1 || got[0] != expiredA {
		t.Fatalf("expired with limit 1 = %v, %v; want [%s]", got, err, expiredA)
	}
	// The stale entries were dropped or rescheduled: only the two remain due.
	due, err := e.raw.ZCount(ctx, e.prefix+":expiry", "-inf", "("+itoa(now.UnixMilli())).Result()
	if err != nil || due != 2 {
		t.Fatalf("index entries due = %d, %v; want 2", due, err)
	}
	if sc := e.raw.ZScore(ctx, e.prefix+":expiry", extended).Val(); int64(sc) != now.Add(time.Hour).UnixMilli() {
		t.Fatalf("extended upload's index score %v, want its new expiry", sc)
	}
}

// TestFullManifestRoundTrips: the manifest of an upload with S3's 10,000
// parts (about 1 MiB) is written and read back whole, although every
// connection's buffers are only connBuffer bytes.
func TestFullManifestRoundTrips(t *testing.T) {
	t.Parallel()
	const n, size = 10000, 8 << 20
	s, ctx, id := newEnv(t, testenv.RedisURL(t)).open(t), ctxT(t), newID(t)
	l := createLocked(t, ctx, s, &state.Upload{ID: id, Length: n * size})
	defer l.Unlock(ctx)
	want := make([]state.Part, n)
	for i := range want {
		want[i] = state.Part{Number: i + 1, Offset: int64(i) * size, Size: size,
			ETag: fmt.Sprintf(`"%032x"`, i*7919), Checksum: fmt.Sprintf("%08x==", i)}
	}
	// Committed in runs, as a long upload commits them.
	for off := 0; off < n; off += 2500 {
		run := want[off : off+2500]
		last := run[len(run)-1]
		if err := s.Commit(ctx, id, l.Token(), int64(off)*size, state.Change{Offset: last.Offset + last.Size, Parts: run}); err != nil {
			t.Fatalf("commit parts from %d: %v", off+1, err)
		}
	}
	got, err := s.Parts(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("read back %d parts, want the %d committed (first %+v)", len(got), len(want), got[:min(len(got), 1)])
	}
}
