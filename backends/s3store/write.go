package s3store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/backends/bufpool"
	"github.com/tusgate/tusgate/state"
)

// Write streams r into the multipart upload, cut into the parts of the
// upload's layout. Full parts are sent while the body is still arriving, up
// to Concurrency at once, and committed in part order as soon as they and
// all parts before them are stored. A part that reaches a known length is
// the upload's (short) last part; what is left at the end of the body,
// shorter than its part, becomes a new tail object. A previous tail is read
// back first and joined to the next part: the only re-read, less than a
// part.
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
	// stopped is set with err. The body loop polls it instead of taking mu,
	// which a commit holds for a state round trip: reading the body must
	// never wait for a commit.
	stopped atomic.Bool

	mu        sync.Mutex // guards the fields below and serialises commits
	next      int        // number of the next part to commit
	done      map[int]state.Part
	committed int64             // offset committed so far
	handle    map[string]string // handle changes owed by the next commit
	err       error             // first failure of an upload, a commit or the pool
	broken    bool              // a commit failed: commit nothing more
}

func (w *partWriter) run(r io.Reader) error {
	h := w.h
	p := h.layout.at(w.committed - h.tailSize) // the part being filled; check made it start there
	w.next = p.num
	switch {
	case h.tailKey != "":
		// The first commit covers the tail's bytes: it drops the pointer and
		// marks the object for deletion.
		w.handle = map[string]string{HandleTailKey: "", HandleTailSize: "", HandleStaleTail: h.tailKey}
	case h.staleTail != "":
		w.handle = map[string]string{HandleStaleTail: ""}
	}

	buf, err := w.buffer(p)
	if err != nil {
		return err
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
		end := p.start + buf.Len()
		w.launch(buf, p)
		buf = nil
		if readErr != nil || w.failed() || (w.length >= 0 && end >= w.length) {
			break
		}
		p = h.layout.part(p.num + 1)
		if buf, err = w.buffer(p); err != nil {
			w.fail(err)
			break
		}
	}
	w.wg.Wait()
	err = w.storeRest(buf, p)
	switch {
	case err != nil && readErr != nil:
		return errors.Join(err, readErr)
	case err != nil:
		return err
	}
	return readErr
}

// buffer reserves the memory for part p: the whole part, or only up to the
// end of the upload when its length is known (a short last part). A part
// the budget can never hold ends the upload here: the doubling layout of
// deferred lengths outgrows a small budget eventually.
func (w *partWriter) buffer(p span) (*bufpool.Buffer, error) {
	if p.num > MaxParts {
		return nil, fmt.Errorf("%w: part %d of %s is beyond S3's %d parts", backends.ErrTooLarge, p.num, w.id, MaxParts)
	}
	size := p.size
	if w.length >= 0 {
		size = min(size, w.length-p.start)
	}
	if budget := w.s.pool.Budget(); size > budget {
		return nil, fmt.Errorf("%w: upload %s reached %d bytes; its part %d needs a %d-byte buffer, "+
			"more than the memory budget of %d bytes (its parts fit the budget up to offset %d)",
			backends.ErrTooLarge, w.id, p.start, p.num, size, budget, w.h.layout.reach(budget))
	}
	buf, err := w.s.newBuffer(w.ctx, size, w.h)
	if err != nil {
		return nil, fmt.Errorf("s3store: part buffer: %w", err)
	}
	return buf, nil
}

// launch uploads the full buffer of part p in the background; it owns buf
// from here on.
func (w *partWriter) launch(buf *bufpool.Buffer, p span) {
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
		etag, crc, err := w.s.uploadPart(w.ctx, w.h, p.num, buf)
		size := buf.Len()
		buf.Release()
		<-w.slots
		w.finished(state.Part{Number: p.num, Offset: p.start, Size: size, ETag: etag, Checksum: crc}, err)
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

// storeRest stores the bytes left in buf, the unfinished part p, once every
// launched part is committed, as a new tail object. (A buffer that reaches
// a known length is full and was sent as the last part.)
func (w *partWriter) storeRest(buf *bufpool.Buffer, p span) error {
	if buf != nil {
		defer buf.Release()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	if buf == nil || p.start+buf.Len() <= w.committed {
		return nil // nothing new: at most the old tail, still committed
	}
	end := p.start + buf.Len()
	key := w.h.tailKeyFor(end)
	if err := w.s.putBuffer(w.ctx, key, buf); err != nil {
		return fmt.Errorf("s3store: tail of %s: %w", w.id, err)
	}
	if w.handle == nil {
		w.handle = map[string]string{}
	}
	w.handle[HandleTailKey] = key
	w.handle[HandleTailSize] = strconv.FormatInt(buf.Len(), 10)
	w.commitLocked(state.Change{Offset: end})
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

// setErr is called with w.mu held.
func (w *partWriter) setErr(err error) {
	if w.err == nil {
		w.err = err
		w.stopped.Store(true)
	}
}

func (w *partWriter) fail(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.setErr(err)
}

func (w *partWriter) failed() bool { return w.stopped.Load() }

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
