package s3store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/backends/bufpool"
	"github.com/tusgate/tusgate/state"
)

// Write streams r into the multipart upload. Full parts are sent while the
// body is still arriving, up to Concurrency at once, and committed in part
// order as soon as they and all parts before them are stored. What is left
// at the end (shorter than a part) becomes the upload's last part when the
// length is reached, else a new tail object. A previous tail is read back
// first and joined to the next part: the only re-read, less than a part.
func (s *Store) Write(ctx context.Context, u *state.Upload, r io.Reader, commit backends.CommitFunc) error {
	h := handleOf(s.cfg, u)
	if err := h.check(u); err != nil {
		return err
	}
	if h.staleTail != "" {
		// Committed state already says it was superseded.
		s.deleteQuietly(ctx, h.staleTail)
	}
	// Wait for the first byte before reserving memory or re-reading the
	// tail: an empty or stalled body then costs nothing.
	var first [1]byte
	n, err := io.ReadFull(r, first[:])
	if n == 0 {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return err
	}
	if u.Complete() {
		return fmt.Errorf("%w: upload %s already has its %d bytes", backends.ErrTooLarge, u.ID, u.Length)
	}
	w := &partWriter{s: s, h: h, id: u.ID, length: u.Length, parent: ctx, commit: commit,
		slots: make(chan struct{}, s.cfg.Concurrency), done: map[int]state.Part{}, committed: u.Offset}
	w.ctx, w.cancel = context.WithCancel(ctx)
	defer w.cancel()
	return w.run(io.MultiReader(bytes.NewReader(first[:n]), r))
}

// partWriter is the state of one Write.
type partWriter struct {
	s      *Store
	h      handle
	id     string
	length int64
	parent context.Context // commits
	ctx    context.Context // S3 requests and pool waits; cancelled when a commit fails
	cancel context.CancelFunc
	commit backends.CommitFunc
	slots  chan struct{} // parts in flight
	wg     sync.WaitGroup

	mu        sync.Mutex // guards the fields below and serialises commits
	next      int        // number of the next part to commit
	done      map[int]state.Part
	committed int64             // offset committed so far
	handle    map[string]string // handle changes owed by the next commit
	err       error             // first failure of an upload, a commit or the pool
	broken    bool              // a commit failed: commit nothing more
}

func (w *partWriter) run(r io.Reader) error {
	h, ps := w.h, w.h.partSize
	base := w.committed - h.tailSize // where the part being filled starts
	w.next = h.partNumber(base)
	switch {
	case h.tailKey != "":
		// The first commit covers the tail's bytes: it drops the pointer and
		// marks the object for deletion.
		w.handle = map[string]string{HandleTailKey: "", HandleTailSize: "", HandleStaleTail: h.tailKey}
	case h.staleTail != "":
		w.handle = map[string]string{HandleStaleTail: ""}
	}

	buf, err := w.s.pool.Get(w.ctx, ps)
	if err != nil {
		return fmt.Errorf("s3store: part buffer: %w", err)
	}
	if h.tailSize > 0 {
		if err := w.s.readRange(w.ctx, h.tailKey, 0, h.tailSize, buf); err != nil {
			buf.Release()
			return fmt.Errorf("s3store: reading tail of %s: %w", w.id, err)
		}
	}
	var readErr error
	for {
		// A read error may come with the bytes that fill the part: the
		// full part is still sent, and the error ends the body after it.
		_, readErr = buf.ReadFrom(r)
		if !buf.Full() {
			break // EOF or a read error: the rest is shorter than a part
		}
		w.launch(buf, base)
		buf = nil
		base += ps
		if readErr != nil || w.failed() || (w.length >= 0 && base >= w.length) {
			break
		}
		if buf, err = w.s.pool.Get(w.ctx, ps); err != nil {
			w.fail(fmt.Errorf("s3store: part buffer: %w", err))
			buf = nil
			break
		}
	}
	w.wg.Wait()
	err = w.storeRest(buf, base)
	switch {
	case err != nil && readErr != nil:
		return errors.Join(err, readErr)
	case err != nil:
		return err
	}
	return readErr
}

// launch uploads a full part in the background; it owns buf from here on.
func (w *partWriter) launch(buf *bufpool.Buffer, base int64) {
	num := w.h.partNumber(base)
	if num > MaxParts {
		buf.Release()
		w.fail(fmt.Errorf("%w: part %d is beyond S3's %d parts", backends.ErrTooLarge, num, MaxParts))
		return
	}
	select {
	case w.slots <- struct{}{}:
	case <-w.ctx.Done():
		buf.Release()
		w.fail(w.ctx.Err())
		return
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		etag, err := w.s.uploadPart(w.ctx, w.h, num, buf)
		size := buf.Len()
		buf.Release()
		<-w.slots
		w.finished(state.Part{Number: num, Offset: base, Size: size, ETag: etag}, err)
	}()
}

// finished records a stored part and commits the contiguous run of parts
// now complete; a part waits for every part before it (invariant 3).
func (w *partWriter) finished(p state.Part, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		w.setErr(fmt.Errorf("s3store: part %d of %s: %w", p.Number, w.id, err))
		return
	}
	w.done[p.Number] = p
	var run []state.Part
	for {
		q, ok := w.done[w.next]
		if !ok {
			break
		}
		delete(w.done, w.next)
		run = append(run, q)
		w.next++
	}
	if len(run) == 0 || w.broken {
		return
	}
	last := run[len(run)-1]
	w.commitLocked(state.Change{Offset: last.Offset + last.Size, Parts: run})
}

// storeRest stores the bytes left in buf (all shorter than a part) once
// every launched part is committed: as the last part when they end the
// upload, else as a new tail object.
func (w *partWriter) storeRest(buf *bufpool.Buffer, base int64) error {
	if buf != nil {
		defer buf.Release()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	if buf == nil || base+buf.Len() <= w.committed {
		return nil // nothing new: at most the old tail, still committed
	}
	end := base + buf.Len()
	num := w.h.partNumber(base)
	if num > MaxParts {
		return fmt.Errorf("%w: part %d is beyond S3's %d parts", backends.ErrTooLarge, num, MaxParts)
	}
	var ch state.Change
	if w.length >= 0 && end == w.length {
		etag, err := w.s.uploadPart(w.ctx, w.h, num, buf)
		if err != nil {
			return fmt.Errorf("s3store: last part of %s: %w", w.id, err)
		}
		ch = state.Change{Offset: end, Parts: []state.Part{{Number: num, Offset: base, Size: buf.Len(), ETag: etag}}}
	} else {
		key := w.h.tailKeyFor(end)
		if err := w.s.putBuffer(w.ctx, key, buf); err != nil {
			return fmt.Errorf("s3store: tail of %s: %w", w.id, err)
		}
		if w.handle == nil {
			w.handle = map[string]string{}
		}
		w.handle[HandleTailKey] = key
		w.handle[HandleTailSize] = strconv.FormatInt(buf.Len(), 10)
		ch = state.Change{Offset: end}
	}
	w.commitLocked(ch)
	return w.err
}

// commitLocked commits ch with the handle changes owed; w.mu is held so
// commits happen one at a time and in order.
func (w *partWriter) commitLocked(ch state.Change) {
	ch.Handle = w.handle
	if err := w.commit(w.parent, ch); err != nil {
		// The lease is gone or state is unreachable: nothing more may be
		// committed, so stop the uploads still running.
		w.setErr(fmt.Errorf("s3store: commit of %s at offset %d: %w", w.id, ch.Offset, err))
		w.broken = true
		w.cancel()
		return
	}
	w.handle = nil
	w.committed = ch.Offset
}

func (w *partWriter) setErr(err error) {
	if w.err == nil {
		w.err = err
	}
}

func (w *partWriter) fail(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.setErr(err)
}

func (w *partWriter) failed() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err != nil
}

// Discard deletes the tail object written for a change that was never
// committed. Parts need nothing: a later write of the same offset reuses
// their numbers and replaces them.
func (s *Store) Discard(ctx context.Context, u *state.Upload, uncommitted state.Change) error {
	k := uncommitted.Handle[HandleTailKey]
	if k == "" || k == u.Handle[HandleTailKey] || k == u.Handle[HandleStaleTail] {
		return nil
	}
	return s.deleteObject(ctx, k)
}
