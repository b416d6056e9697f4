package backendtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/state"
)

// upload is the gateway's view of one upload: the committed record and the
// manifest, updated only through accepted commits, as a state store would.
type upload struct {
	t     *testing.T
	s     *suite
	b     backends.Backend
	mu    sync.Mutex
	rec   *state.Upload
	parts map[int]state.Part
}

// newID returns 32 random lowercase hex characters, like the gateway's IDs.
func newID(t *testing.T) string {
	t.Helper()
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("random id: %v", err)
	}
	return hex.EncodeToString(b[:])
}

// create makes a new upload of the given length (-1: deferred) through
// Backend.Create and keeps the returned handle, as the gateway does.
func (s *suite) create(t *testing.T, b backends.Backend, length int64, edit ...func(*state.Upload)) *upload {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Second)
	u := &state.Upload{
		ID:        newID(t),
		Length:    length,
		Metadata:  "filename dGVzdC5iaW4=",
		CreatedAt: now,
		ExpiresAt: now.Add(24 * time.Hour),
	}
	for _, e := range edit {
		e(u)
	}
	h, err := b.Create(t.Context(), u.Clone())
	if err != nil {
		t.Fatalf("Create(length=%d): %v", length, err)
	}
	u.Handle = maps.Clone(h)
	return &upload{t: t, s: s, b: b, rec: u, parts: map[int]state.Part{}}
}

// snapshot returns a copy of the committed record.
func (up *upload) snapshot() *state.Upload {
	up.mu.Lock()
	defer up.mu.Unlock()
	return up.rec.Clone()
}

// offset returns the committed offset.
func (up *upload) offset() int64 {
	up.mu.Lock()
	defer up.mu.Unlock()
	return up.rec.Offset
}

// apply commits ch the way a store would (used for the gateway's own changes:
// declaring a length, marking the upload finished).
func (up *upload) apply(ch state.Change) {
	up.mu.Lock()
	defer up.mu.Unlock()
	up.applyLocked(ch)
}

func (up *upload) applyLocked(ch state.Change) {
	up.rec.Apply(ch)
	for _, p := range ch.Parts {
		up.parts[p.Number] = p
	}
}

// manifest returns the parts ordered by Number, as Store.Parts does.
func (up *upload) manifest() []state.Part {
	up.mu.Lock()
	defer up.mu.Unlock()
	nums := slices.Sorted(maps.Keys(up.parts))
	out := make([]state.Part, 0, len(nums))
	for _, n := range nums {
		out = append(out, up.parts[n])
	}
	return out
}

// refuseFunc decides whether the n-th commit call (1-based) of a Write is
// refused; a non-nil error is returned to the backend.
type refuseFunc func(n int, p backends.Progress) error

// writeResult is what one Write did, as seen by the gateway.
type writeResult struct {
	err error
	// start is the committed offset when Write was called.
	start int64
	// consumed counts bytes the backend read from the body.
	consumed int64
	// accepted counts commits that were recorded.
	accepted int
	// refused is the change whose commit was refused, if any.
	refused *backends.Progress
}

// write calls Backend.Write from the committed state with body r. Every
// commit is checked (offset never goes back, never passes the bytes read;
// a length or finish cannot be expressed in backends.Progress) and applied
// when not refused. It never
// calls t.Fatal, so it may run in a goroutine.
func (up *upload) write(ctx context.Context, r io.Reader, refuse refuseFunc) writeResult {
	t := up.t
	start := up.snapshot()
	in := start.Clone()
	cr := &countingReader{r: r}
	res := writeResult{start: start.Offset}
	calls := 0
	var refusedErr error

	commit := func(_ context.Context, ch backends.Progress) error {
		up.mu.Lock()
		defer up.mu.Unlock()
		calls++
		if res.refused != nil {
			t.Errorf("commit called again (call %d) after a refused commit: Write must stop at once", calls)
			return refusedErr
		}
		given := start.Offset + cr.n.Load()
		if ch.Offset < up.rec.Offset {
			t.Errorf("commit %d moves the offset backwards: %d -> %d", calls, up.rec.Offset, ch.Offset)
		}
		if ch.Offset > given {
			t.Errorf("commit %d claims offset %d but only %d bytes were given (start %d + read %d)",
				calls, ch.Offset, given, start.Offset, given-start.Offset)
		}
		if start.Length >= 0 && ch.Offset > start.Length {
			t.Errorf("commit %d claims offset %d past the length %d", calls, ch.Offset, start.Length)
		}
		if refuse != nil {
			if err := refuse(calls, ch); err != nil {
				c := ch
				res.refused = &c
				refusedErr = err
				return err
			}
		}
		up.applyLocked(ch.Change())
		res.accepted++
		return nil
	}

	res.err = up.b.Write(ctx, in, cr, commit)
	res.consumed = cr.n.Load()
	up.s.sent.Add(res.consumed)
	if !reflect.DeepEqual(in, start) {
		t.Errorf("Write modified the upload record it was given:\n got  %+v\n want %+v", in, start)
	}
	if res.err == nil && res.consumed > 0 && res.accepted == 0 {
		t.Errorf("Write stored %d bytes and returned nil without committing any", res.consumed)
	}
	if res.err == nil {
		if got, want := up.offset(), start.Offset+res.consumed; got != want {
			t.Errorf("Write returned nil but committed offset is %d, want %d (start %d + read %d)",
				got, want, start.Offset, res.consumed)
		}
	}
	return res
}

// writeAll writes data as one request body and requires full success.
func (up *upload) writeAll(data []byte) {
	up.t.Helper()
	res := up.write(up.t.Context(), bytes.NewReader(data), nil)
	if res.err != nil {
		up.t.Fatalf("Write(%d bytes at %d): %v", len(data), res.start, res.err)
	}
	if res.consumed != int64(len(data)) {
		up.t.Fatalf("Write read %d of %d bytes and returned nil", res.consumed, len(data))
	}
}

// declareLength commits the length of a deferred upload, as the gateway does
// when a PATCH carries Upload-Length.
func (up *upload) declareLength(n int64) {
	up.t.Helper()
	if l := up.snapshot().Length; l >= 0 {
		up.t.Fatalf("declareLength on an upload whose length is already %d", l)
	}
	up.apply(state.Change{Offset: up.offset(), Length: &n})
}

// finish calls Backend.Finish with the manifest, then commits Finished.
func (up *upload) finish() {
	up.t.Helper()
	u := up.snapshot()
	if !u.Complete() {
		up.t.Fatalf("finish: upload not complete (offset %d, length %d)", u.Offset, u.Length)
	}
	if err := up.b.Finish(up.t.Context(), u, up.manifest()); err != nil {
		up.t.Fatalf("Finish(length %d, %d parts): %v", u.Length, len(up.manifest()), err)
	}
	up.apply(state.Change{Offset: u.Offset, Finished: true})
}

// rangeReader returns the backend's RangeReader, which the suite requires.
func rangeReader(t *testing.T, b backends.Backend) backends.RangeReader {
	t.Helper()
	rr, ok := b.(backends.RangeReader)
	if !ok {
		t.Fatalf("backend %T does not implement backends.RangeReader, which the suite requires to check stored bytes", b)
	}
	return rr
}

// readRange reads [off, off+n) of the upload through the RangeReader.
func readRange(ctx context.Context, rr backends.RangeReader, u *state.Upload, off, n int64) ([]byte, error) {
	rc, err := rr.NewRangeReader(ctx, u, off, n)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(rc)
	if cerr := rc.Close(); err == nil {
		err = cerr
	}
	return data, err
}

// verify reads the whole object back and compares it with want.
func (up *upload) verify(want []byte) {
	up.t.Helper()
	u := up.snapshot()
	if u.Length != int64(len(want)) {
		up.t.Fatalf("committed length %d, source has %d bytes", u.Length, len(want))
	}
	got, err := readRange(up.t.Context(), rangeReader(up.t, up.b), u, 0, u.Length)
	if err != nil {
		up.t.Fatalf("reading back %d bytes: %v", u.Length, err)
	}
	sameBytes(up.t, "object", got, want)
}

// sameBytes compares by SHA-256 and, on mismatch, reports where they differ.
func sameBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if sha256.Sum256(got) == sha256.Sum256(want) {
		return
	}
	if len(got) != len(want) {
		t.Fatalf("%s: got %d bytes, want %d", what, len(got), len(want))
	}
	i := 0
	for i < len(got) && got[i] == want[i] {
		i++
	}
	t.Fatalf("%s: SHA-256 differs from the source; first differing byte at offset %d of %d", what, i, len(want))
}

// concatHeader builds the Upload-Concat value of a final upload.
func concatHeader(ids []string) string {
	urls := make([]string, len(ids))
	for i, id := range ids {
		urls[i] = "/files/" + id
	}
	return "final;" + strings.Join(urls, " ")
}
