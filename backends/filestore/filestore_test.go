package filestore_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/backends/filestore"
	"github.com/tusgate/tusgate/state"
	"github.com/tusgate/tusgate/test/backendtest"
)

func newStore(t *testing.T, dir string, opts filestore.Options) *filestore.Store {
	t.Helper()
	s, err := filestore.New(dir, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformanceDefaults(t *testing.T) {
	backendtest.Run(t, backendtest.Harness{
		New: func(t *testing.T) backends.Backend { return newStore(t, t.TempDir(), filestore.Options{}) },
	})
}

// Small, odd sync steps give several commits per Write, so refusals and
// interruptions land between commits.
func TestConformanceFrequentCommits(t *testing.T) {
	backendtest.Run(t, backendtest.Harness{
		New: func(t *testing.T) backends.Backend {
			return newStore(t, t.TempDir(), filestore.Options{SyncBytes: 10007, SyncInterval: -1, BufferSize: 4096})
		},
	})
}

// record is what the gateway would keep for one upload.
type record struct {
	u       *state.Upload
	offsets []int64
}

func (r *record) commit(_ context.Context, ch backends.Progress) error {
	r.offsets = append(r.offsets, ch.Offset)
	r.u.Apply(ch.Change())
	return nil
}

func create(t *testing.T, s *filestore.Store, id string, length int64) *record {
	t.Helper()
	u := &state.Upload{ID: id, Length: length}
	if _, err := s.Create(t.Context(), u.Clone()); err != nil {
		t.Fatalf("Create(%q): %v", id, err)
	}
	return &record{u: u}
}

func TestFileLayoutFansOutByIDPrefix(t *testing.T) {
	dir := t.TempDir()
	s := newStore(t, dir, filestore.Options{})
	r := create(t, s, "ab0123456789abcdef0123456789abcd", 3)
	if err := s.Write(t.Context(), r.u.Clone(), bytes.NewReader([]byte("xyz")), r.commit); err != nil {
		t.Fatalf("Write: %v", err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "ab", "ab0123456789abcdef0123456789abcd.bin"))
	if err != nil || string(got) != "xyz" {
		t.Fatalf("data file: %q, %v; want \"xyz\"", got, err)
	}
}

// stepReader returns at most step bytes per Read.
type stepReader struct {
	r    io.Reader
	step int
}

func (s *stepReader) Read(p []byte) (int, error) { return s.r.Read(p[:min(len(p), s.step)]) }

func TestCommitsEverySyncBytesAndAtEndWithBytesInPlace(t *testing.T) {
	dir := t.TempDir()
	s := newStore(t, dir, filestore.Options{SyncBytes: 10, SyncInterval: -1})
	id := "cd0123456789abcdef0123456789abcd"
	data := []byte("0123456789abcdefghijklmnopqrstuvwxyz!") // 37 bytes
	r := create(t, s, id, int64(len(data)))
	commit := func(ctx context.Context, ch backends.Progress) error {
		// Whatever is committed must already be in the file.
		onDisk, err := os.ReadFile(filepath.Join(dir, id[:2], id+".bin"))
		if err != nil || int64(len(onDisk)) < ch.Offset || !bytes.Equal(onDisk[:ch.Offset], data[:ch.Offset]) {
			t.Errorf("commit of offset %d: file holds %q (%v)", ch.Offset, onDisk, err)
		}
		return r.commit(ctx, ch)
	}
	if err := s.Write(t.Context(), r.u.Clone(), &stepReader{bytes.NewReader(data), 4}, commit); err != nil {
		t.Fatalf("Write: %v", err)
	}
	want := []int64{12, 24, 36, 37}
	if !slices.Equal(r.offsets, want) {
		t.Fatalf("commit offsets %v, want %v", r.offsets, want)
	}
}

// cancelReader hands out its data, then cancels the write's context during
// the next Read (as a lost lease does while a read blocks) and returns bytes
// that arrived too late to be written.
type cancelReader struct {
	data   []byte
	cancel context.CancelFunc
}

func (c *cancelReader) Read(p []byte) (int, error) {
	if c.data == nil {
		c.cancel()
		return copy(p, "late"), nil
	}
	n := copy(p, c.data)
	c.data = nil
	return n, nil
}

func TestCancelledWriteKeepsWrittenBytesAndDropsLaterOnes(t *testing.T) {
	dir := t.TempDir()
	s := newStore(t, dir, filestore.Options{})
	r := create(t, s, "ef0123456789abcdef0123456789abcd", 100)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var commitCtxErr error
	commit := func(cctx context.Context, ch backends.Progress) error {
		commitCtxErr = cctx.Err()
		return r.commit(cctx, ch)
	}
	err := s.Write(ctx, r.u.Clone(), &cancelReader{data: []byte("hello"), cancel: cancel}, commit)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Write: %v, want context.Canceled", err)
	}
	if r.u.Offset != 5 {
		t.Fatalf("committed offset %d, want the 5 bytes written before the cancel", r.u.Offset)
	}
	if commitCtxErr != nil {
		t.Fatalf("the saving commit got a dead context: %v", commitCtxErr)
	}
	got, err := os.ReadFile(filepath.Join(dir, "ef", "ef0123456789abcdef0123456789abcd.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(got, []byte("late")) {
		t.Fatalf("bytes read after the cancel were written: %q", got)
	}
}

func TestInvalidIDsAreRefused(t *testing.T) {
	s := newStore(t, t.TempDir(), filestore.Options{})
	for _, id := range []string{"", "a", "../../etc/passwd", "ab/cd", "ab.cd", "ab\x00cd"} {
		u := &state.Upload{ID: id, Length: 1}
		if _, err := s.Create(t.Context(), u); !errors.Is(err, filestore.ErrInvalidID) {
			t.Errorf("Create(%q): %v, want ErrInvalidID", id, err)
		}
		if _, err := s.NewRangeReader(t.Context(), u, 0, 1); !errors.Is(err, filestore.ErrInvalidID) {
			t.Errorf("NewRangeReader(%q): %v, want ErrInvalidID", id, err)
		}
	}
}

func TestWriteToUnknownUploadIsNotFound(t *testing.T) {
	s := newStore(t, t.TempDir(), filestore.Options{})
	u := &state.Upload{ID: "0123456789abcdef0123456789abcdef", Length: 3}
	err := s.Write(t.Context(), u, bytes.NewReader([]byte("abc")), func(context.Context, backends.Progress) error { return nil })
	if !errors.Is(err, backends.ErrNotFound) {
		t.Fatalf("Write: %v, want backends.ErrNotFound", err)
	}
}

func TestCreateRefusesAnExistingID(t *testing.T) {
	s := newStore(t, t.TempDir(), filestore.Options{})
	r := create(t, s, "aa0123456789abcdef0123456789abcd", 3)
	if err := s.Write(t.Context(), r.u.Clone(), bytes.NewReader([]byte("abc")), r.commit); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if _, err := s.Create(t.Context(), r.u.Clone()); !errors.Is(err, os.ErrExist) {
		t.Fatalf("second Create: %v, want os.ErrExist", err)
	}
	if err := s.Finish(t.Context(), r.u.Clone(), nil); err != nil {
		t.Fatalf("Finish: %v", err)
	}
}

func TestPingFailsWhenDirIsGone(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s := newStore(t, dir, filestore.Options{})
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping on a fresh dir: %v", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(t.Context()); !errors.Is(err, backends.ErrUnavailable) {
		t.Fatalf("Ping without its dir: %v, want backends.ErrUnavailable", err)
	}
}

// The suite reads only [0, Length), so stale bytes past it are checked here.
func TestFinishCutsUncommittedBytesPastTheLength(t *testing.T) {
	dir := t.TempDir()
	s := newStore(t, dir, filestore.Options{})
	id := "bb0123456789abcdef0123456789abcd"
	r := create(t, s, id, -1)
	refuse := func(context.Context, backends.Progress) error { return errors.New("fenced") }
	if err := s.Write(t.Context(), r.u.Clone(), bytes.NewReader([]byte("stale bytes")), refuse); err == nil {
		t.Fatal("Write with a refused commit returned nil")
	}
	if err := s.Write(t.Context(), r.u.Clone(), bytes.NewReader([]byte("new")), r.commit); err != nil {
		t.Fatalf("Write: %v", err)
	}
	r.u.Length = 3
	if err := s.Finish(t.Context(), r.u.Clone(), nil); err != nil {
		t.Fatalf("Finish: %v", err)
	}
	got, err := os.ReadFile(filepath.Join(dir, id[:2], id+".bin"))
	if err != nil || string(got) != "new" {
		t.Fatalf("file after Finish: %q, %v; want \"new\"", got, err)
	}
}

func TestWriteRefusesAFileShorterThanTheOffset(t *testing.T) {
	s := newStore(t, t.TempDir(), filestore.Options{})
	r := create(t, s, "cc0123456789abcdef0123456789abcd", 10)
	r.u.Offset = 4 // the state says 4 bytes are stored, the file is empty
	err := s.Write(t.Context(), r.u.Clone(), bytes.NewReader([]byte("xyz")), r.commit)
	if !errors.Is(err, backends.ErrNotFound) {
		t.Fatalf("Write: %v, want backends.ErrNotFound", err)
	}
}

// Hook events name the data file with tusd's filestore keys.
func TestStorageInfoNamesTheDataFile(t *testing.T) {
	dir := t.TempDir()
	s := newStore(t, dir, filestore.Options{})
	r := create(t, s, "ef0123456789abcdef0123456789abcd", 3)
	if err := s.Write(t.Context(), r.u.Clone(), bytes.NewReader([]byte("xyz")), r.commit); err != nil {
		t.Fatalf("Write: %v", err)
	}
	info := s.StorageInfo(r.u)
	if info["Type"] != "filestore" || len(info) != 2 {
		t.Fatalf("StorageInfo = %v, want Type filestore and Path", info)
	}
	if got, err := os.ReadFile(info["Path"]); err != nil || string(got) != "xyz" {
		t.Fatalf("Path %q holds %q (%v), want the upload's bytes", info["Path"], got, err)
	}
}
