package filestore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/state"
)

// concatStep bounds each kernel copy so a long Concat still notices ctx.
const concatStep = 64 << 20

// Finish cuts the file to u.Length (a refused or discarded Write may have
// left bytes past the offset) and fsyncs it. Repeating it changes nothing.
func (s *Store) Finish(ctx context.Context, u *state.Upload, _ []state.Part) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if u.Length < 0 {
		return fmt.Errorf("filestore: finish %s: length not declared", u.ID)
	}
	f, err := s.open(u, os.O_WRONLY)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("filestore: finish %s: %w", u.ID, err)
	}
	if fi.Size() < u.Length {
		return fmt.Errorf("filestore: finish %s: file holds %d of %d bytes: %w", u.ID, fi.Size(), u.Length, backends.ErrNotFound)
	}
	if err := f.Truncate(u.Length); err != nil {
		return fmt.Errorf("filestore: finish %s: %w", u.ID, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("filestore: finish %s: %w", u.ID, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("filestore: finish %s: %w", u.ID, err)
	}
	s.log.DebugContext(ctx, "upload finished", "id", u.ID, "length", u.Length)
	return nil
}

// Concat writes the partials, in order, into the final's file. The file is
// truncated first, so a retried Concat starts over cleanly.
func (s *Store) Concat(ctx context.Context, final *state.Upload, partials []*state.Upload) error {
	var total int64
	for _, p := range partials {
		if p.Length < 0 {
			return fmt.Errorf("filestore: concat %s: partial %s has no length", final.ID, p.ID)
		}
		total += p.Length
	}
	if total != final.Length {
		return fmt.Errorf("filestore: concat %s: partials hold %d bytes, final length is %d", final.ID, total, final.Length)
	}
	dst, err := s.open(final, os.O_WRONLY|os.O_TRUNC)
	if err != nil {
		return err
	}
	defer dst.Close()
	for _, p := range partials {
		if err := s.appendFile(ctx, dst, p); err != nil {
			return fmt.Errorf("filestore: concat %s: %w", final.ID, err)
		}
	}
	if err := dst.Sync(); err != nil {
		return fmt.Errorf("filestore: concat %s: %w", final.ID, err)
	}
	if err := dst.Close(); err != nil {
		return fmt.Errorf("filestore: concat %s: %w", final.ID, err)
	}
	s.log.DebugContext(ctx, "uploads concatenated", "id", final.ID, "partials", len(partials), "length", total)
	return nil
}

// appendFile copies the first p.Length bytes of p's file to dst. io.CopyN
// between files lets the kernel copy (copy_file_range) without a buffer.
func (s *Store) appendFile(ctx context.Context, dst *os.File, p *state.Upload) error {
	src, err := s.open(p, os.O_RDONLY)
	if err != nil {
		return err
	}
	defer src.Close()
	for left := p.Length; left > 0; {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := io.CopyN(dst, src, min(left, concatStep))
		left -= n
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("partial %s is %d bytes short: %w", p.ID, left, backends.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("partial %s: %w", p.ID, err)
		}
	}
	return nil
}
