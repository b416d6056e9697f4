package filestore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/state"
)

// writer tracks one Write: bytes land at off, and only bytes up to durable
// have been fsync'd and committed.
type writer struct {
	s        *Store
	f        *os.File
	id       string
	commit   backends.CommitFunc
	off      int64
	durable  int64
	lastSave time.Time
}

// Write copies r into the file at u.Offset. It fsyncs and then commits every
// SyncBytes (or SyncInterval) and at the end, so a committed offset only ever
// covers bytes on stable storage (invariant 1). When r fails or ctx ends, the
// bytes received so far are still fsync'd and committed (invariant 6).
func (s *Store) Write(ctx context.Context, u *state.Upload, r io.Reader, commit backends.CommitFunc) error {
	f, err := s.open(u, os.O_WRONLY)
	if err != nil {
		return err
	}
	defer f.Close()
	// A file shorter than the committed offset lost data (restored disk,
	// manual edit); writing past it would leave a hole of zeros.
	if fi, err := f.Stat(); err != nil {
		return fmt.Errorf("filestore: write %s: %w", u.ID, err)
	} else if fi.Size() < u.Offset {
		return fmt.Errorf("filestore: write %s: file holds %d bytes, offset is %d: %w", u.ID, fi.Size(), u.Offset, backends.ErrNotFound)
	}
	bufp := s.bufs.Get().(*[]byte)
	defer s.bufs.Put(bufp)
	buf := *bufp

	w := &writer{s: s, f: f, id: u.ID, commit: commit, off: u.Offset, durable: u.Offset, lastSave: time.Now()}
	for {
		if err := ctx.Err(); err != nil {
			return w.stop(ctx, fmt.Errorf("filestore: write %s: %w", u.ID, err))
		}
		n, rerr := r.Read(buf)
		if n > 0 {
			// The read may have blocked for long (a stalled client, a paused
			// process); a write that lost its lease meanwhile must not touch
			// the file another holder now writes.
			if err := ctx.Err(); err != nil {
				return w.stop(ctx, fmt.Errorf("filestore: write %s: %w", u.ID, err))
			}
			if _, err := f.WriteAt(buf[:n], w.off); err != nil {
				// Nothing past durable is committed; the client resends it.
				return fmt.Errorf("filestore: write %s at %d: %w", u.ID, w.off, err)
			}
			w.off += int64(n)
		}
		switch {
		case rerr == io.EOF:
			return w.save(ctx)
		case rerr != nil:
			return w.stop(ctx, fmt.Errorf("filestore: read body of %s: %w", u.ID, rerr))
		case w.due():
			if err := w.save(ctx); err != nil {
				return err
			}
		}
	}
}

// due reports whether pending bytes should be made durable now.
func (w *writer) due() bool {
	pending := w.off - w.durable
	if pending >= w.s.opts.SyncBytes {
		return true
	}
	iv := w.s.opts.SyncInterval
	return pending > 0 && iv > 0 && time.Since(w.lastSave) >= iv
}

// save fsyncs and commits the bytes written since the last save.
func (w *writer) save(ctx context.Context) error {
	if w.off == w.durable {
		return nil
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("filestore: fsync %s: %w", w.id, err)
	}
	if err := w.commit(ctx, backends.Progress{Offset: w.off}); err != nil {
		return fmt.Errorf("filestore: commit %s at %d: %w", w.id, w.off, err)
	}
	w.durable = w.off
	w.lastSave = time.Now()
	return nil
}

// stop keeps what was received before cause ended the Write. The request ctx
// is often already cancelled here (client gone, release requested), so the
// last commit runs on a detached, bounded context; the fencing token still
// guards it.
func (w *writer) stop(ctx context.Context, cause error) error {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.s.opts.SaveTimeout)
	defer cancel()
	if err := w.save(sctx); err != nil {
		w.s.log.WarnContext(ctx, "could not keep bytes of an interrupted write",
			"id", w.id, "offset", w.durable, "received", w.off, "cause", cause, "err", err)
		return errors.Join(cause, err)
	}
	return cause
}
