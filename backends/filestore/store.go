// Package filestore keeps upload bytes in files on a local or shared
// filesystem. It keeps no state of its own: offsets, lengths and handles live
// in the state store, and the file of an upload is found from its ID alone.
//
// Layout: <dir>/<first two characters of the ID>/<ID>.bin. The two-character
// fan-out keeps directories small with many uploads; fan-out directories are
// never removed, so Create cannot race a Delete that empties one.
package filestore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/state"
)

// Defaults for zero Options fields.
const (
	DefaultSyncBytes    = 16 << 20
	DefaultSyncInterval = time.Second
	DefaultBufferSize   = 128 << 10
	DefaultSaveTimeout  = 5 * time.Second
)

// ErrInvalidID is wrapped when an upload ID cannot name a file safely.
var ErrInvalidID = errors.New("filestore: invalid upload id")

// Options tune a Store; zero values select the defaults above.
type Options struct {
	// SyncBytes: during a Write, fsync and commit after this many new bytes.
	SyncBytes int64
	// SyncInterval: also fsync and commit when bytes have waited this long,
	// so slow uploads show progress (checked after each read). Negative
	// disables it.
	SyncInterval time.Duration
	// BufferSize is the size of each pooled copy buffer.
	BufferSize int
	// SaveTimeout bounds the last fsync and commit a Write makes after its
	// body failed or its ctx was cancelled (the bytes received are kept).
	SaveTimeout time.Duration
	Logger      *slog.Logger
}

// Store is a backends.Backend over a directory. It is safe for concurrent use.
type Store struct {
	dir  string
	opts Options
	log  *slog.Logger
	bufs sync.Pool
}

var (
	_ backends.Backend     = (*Store)(nil)
	_ backends.Concater    = (*Store)(nil)
	_ backends.RangeReader = (*Store)(nil)
)

// New returns a Store keeping files under dir, which it creates if needed.
func New(dir string, opts Options) (*Store, error) {
	if dir == "" {
		return nil, errors.New("filestore: empty directory")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("filestore: create %s: %w", dir, err)
	}
	if opts.SyncBytes <= 0 {
		opts.SyncBytes = DefaultSyncBytes
	}
	if opts.SyncInterval == 0 {
		opts.SyncInterval = DefaultSyncInterval
	}
	if opts.BufferSize <= 0 {
		opts.BufferSize = DefaultBufferSize
	}
	if opts.SaveTimeout <= 0 {
		opts.SaveTimeout = DefaultSaveTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Store{dir: dir, opts: opts, log: opts.Logger.With("backend", "file")}
	s.bufs.New = func() any {
		b := make([]byte, opts.BufferSize)
		return &b
	}
	return s, nil
}

// path returns the data file of an upload. IDs are restricted to
// [A-Za-z0-9_-] so a record can never point outside dir.
func (s *Store) path(id string) (string, error) {
	if len(id) < 2 || len(id) > 200 {
		return "", fmt.Errorf("%w: %q", ErrInvalidID, id)
	}
	for _, c := range []byte(id) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
		if !ok {
			return "", fmt.Errorf("%w: %q", ErrInvalidID, id)
		}
	}
	return filepath.Join(s.dir, id[:2], id+".bin"), nil
}

// open opens the data file of u, mapping a missing file to ErrNotFound.
func (s *Store) open(u *state.Upload, flag int) (*os.File, error) {
	p, err := s.path(u.ID)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p, flag, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("filestore: upload %s: %w", u.ID, backends.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("filestore: open %s: %w", u.ID, err)
	}
	return f, nil
}

// Create makes the empty data file. It returns no handles: the file is found
// from the ID.
func (s *Store) Create(ctx context.Context, u *state.Upload) (map[string]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p, err := s.path(u.ID)
	if err != nil {
		return nil, err
	}
	sub := filepath.Dir(p)
	if err := os.Mkdir(sub, 0o750); err == nil {
		// A new directory entry must be durable before anything in it counts.
		if err := syncDir(s.dir); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("filestore: create %s: %w", sub, err)
	}
	// O_EXCL: an ID collision must never truncate another upload's bytes.
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return nil, fmt.Errorf("filestore: create %s: %w", u.ID, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("filestore: create %s: %w", u.ID, err)
	}
	if err := syncDir(sub); err != nil {
		return nil, err
	}
	s.log.DebugContext(ctx, "upload file created", "id", u.ID, "length", u.Length)
	return nil, nil
}

// Delete removes the data file; a missing file is not an error.
func (s *Store) Delete(ctx context.Context, u *state.Upload) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := s.path(u.ID)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("filestore: delete %s: %w", u.ID, err)
	}
	s.log.DebugContext(ctx, "upload file deleted", "id", u.ID)
	return nil
}

// Ping checks that the directory accepts new files.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f, err := os.CreateTemp(s.dir, ".ping-*")
	if err != nil {
		return fmt.Errorf("filestore: %s not writable: %w: %w", s.dir, backends.ErrUnavailable, err)
	}
	name := f.Name()
	cerr := f.Close()
	rerr := os.Remove(name)
	if err := errors.Join(cerr, rerr); err != nil {
		return fmt.Errorf("filestore: ping %s: %w: %w", s.dir, backends.ErrUnavailable, err)
	}
	return nil
}

// Close releases nothing: files are opened per call.
func (s *Store) Close() error { return nil }

// StorageInfo says where u's file is, as tusd's filestore does (which
// also names an .info file; tusgate keeps that in the state store), for
// hook events.
func (s *Store) StorageInfo(u *state.Upload) map[string]string {
	p, err := s.path(u.ID)
	if err != nil {
		return nil
	}
	return map[string]string{"Type": "filestore", "Path": p}
}

// syncDir makes directory entries (new files, new subdirectories) durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("filestore: sync %s: %w", dir, err)
	}
	serr := d.Sync()
	cerr := d.Close()
	if err := errors.Join(serr, cerr); err != nil {
		return fmt.Errorf("filestore: sync %s: %w", dir, err)
	}
	return nil
}
