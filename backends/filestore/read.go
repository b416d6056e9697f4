package filestore

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/state"
)

// rangeFile reads a window of a data file and closes the file.
type rangeFile struct {
	io.Reader
	f *os.File
}

func (r *rangeFile) Close() error { return r.f.Close() }

// NewRangeReader returns the bytes [offset, offset+length) of the upload.
func (s *Store) NewRangeReader(ctx context.Context, u *state.Upload, offset, length int64) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if offset < 0 || length < 0 || (u.Length >= 0 && offset+length > u.Length) {
		return nil, fmt.Errorf("filestore: read %s: range [%d, +%d) outside length %d", u.ID, offset, length, u.Length)
	}
	f, err := s.open(u, os.O_RDONLY)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("filestore: read %s: %w", u.ID, err)
	}
	if fi.Size() < offset+length {
		f.Close()
		return nil, fmt.Errorf("filestore: read %s: file holds %d bytes, range ends at %d: %w",
			u.ID, fi.Size(), offset+length, backends.ErrNotFound)
	}
	return &rangeFile{Reader: io.NewSectionReader(f, offset, length), f: f}, nil
}
