package multipart

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/backends/bufpool"
	"github.com/tusgate/tusgate/state"
)

// Write streams r into the multipart object, cut into the parts of the
// upload's layout. Full parts are sent while the body is still arriving, up
// to Concurrency at once, and committed in part order as soon as they and
// all parts before them are stored. A part that reaches a known length is
// the upload's (short) last part; what is left at the end of the body,
// shorter than its part, becomes a new tail object. A previous tail is read
// back first and joined to the next part: the only re-read, less than a
// part.
func (e *Engine) Write(ctx context.Context, u *state.Upload, r io.Reader, commit backends.CommitFunc) error {
	h := e.HandleOf(u)
	if err := h.Check(u); err != nil {
		return err
	}
	if h.StaleTail != "" {
		// Committed state already says it was superseded.
		e.deleteQuietly(ctx, h.StaleTail)
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
	w := &partWriter{e: e, h: h, id: u.ID, length: u.Length, parent: ctx, commit: commit,
		done: map[int]state.Part{}, committed: u.Offset}
	w.ctx, w.cancel = context.WithCancel(ctx)
	defer w.cancel()
	w.parts.SetLimit(e.cfg.Concurrency)
	return w.run(io.MultiReader(bytes.NewReader(first[:n]), r))
}

// partWriter is the state of one Write.
type partWriter struct {
	e      *Engine
	h      Handle
	id     string
	length int64
	parent context.Context // commits
	ctx    context.Context // store requests and pool waits; cancelled when a commit fails
	cancel context.CancelFunc
	commit backends.CommitFunc
	// parts runs the part uploads, Concurrency at once; their failures are
	// recorded in err, so every goroutine returns nil.
	parts errgroup.Group
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
	h, k := w.h, w.e.keys
	p := h.Layout.At(w.committed - h.TailSize) // the part being filled; Check made it start there
	w.next = p.Num
	switch {
	case h.TailKey != "":
		// The first commit covers the tail's bytes: it drops the pointer and
		// marks the object for deletion.
		w.handle = map[string]string{k.TailKey: "", k.TailSize: "", k.StaleTail: h.TailKey}
	case h.StaleTail != "":
		w.handle = map[string]string{k.StaleTail: ""}
	}

	buf, err := w.buffer(p)
	if err != nil {
		return err
	}
	if h.TailSize > 0 {
		if err := w.e.readObject(w.ctx, h.TailKey, 0, h.TailSize, buf); err != nil {
			buf.Release()
			return fmt.Errorf("multipart: reading tail of %s: %w", w.id, err)
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
		end := p.Start + buf.Len()
		w.launch(buf, p)
		buf = nil
		if readErr != nil || w.failed() || (w.length >= 0 && end >= w.length) {
			break
		}
		p = h.Layout.Part(p.Num + 1)
		if buf, err = w.buffer(p); err != nil {
			w.fail(err)
			break
		}
	}
	_ = w.parts.Wait() // failures are in w.err
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
func (w *partWriter) buffer(p Span) (*bufpool.Buffer, error) {
	if p.Num > w.e.cfg.MaxParts {
		return nil, fmt.Errorf("%w: part %d of %s is beyond the store's %d parts",
			backends.ErrTooLarge, p.Num, w.id, w.e.cfg.MaxParts)
	}
	size := p.Size
	if w.length >= 0 {
		size = min(size, w.length-p.Start)
	}
	if budget := w.e.pool.Budget(); size > budget {
		return nil, fmt.Errorf("%w: upload %s reached %d bytes; its part %d needs a %d-byte buffer, "+
			"more than the memory budget of %d bytes (its parts fit the budget up to offset %d)",
			backends.ErrTooLarge, w.id, p.Start, p.Num, size, budget, w.h.Layout.Reach(budget))
	}
	buf, err := w.e.NewBuffer(w.ctx, size, w.h)
	if err != nil {
		return nil, fmt.Errorf("multipart: part buffer: %w", err)
	}
	return buf, nil
}

// launch uploads the full buffer of part p in the background; it owns buf
// from here on. It waits while Concurrency parts are in flight.
func (w *partWriter) launch(buf *bufpool.Buffer, p Span) {
	if err := w.ctx.Err(); err != nil {
		buf.Release()
		w.fail(err)
		return
	}
	w.parts.Go(func() error {
		etag, sum, err := w.e.drv.PutPart(w.ctx, w.h, p.Num, buf)
		size := buf.Len()
		buf.Release()
		w.finished(state.Part{Number: p.Num, Offset: p.Start, Size: size, ETag: etag, Checksum: sum}, err)
		return nil
	})
}

// finished records a stored part and commits the contiguous run of parts
// now complete; a part waits for every part before it (invariant 3).
func (w *partWriter) finished(p state.Part, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		w.setErr(fmt.Errorf("multipart: part %d of %s: %w", p.Number, w.id, err))
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
	w.commitLocked(backends.Progress{Offset: last.Offset + last.Size, Parts: run})
}

// storeRest stores the bytes left in buf, the unfinished part p, once every
// launched part is committed, as a new tail object. (A buffer that reaches
// a known length is full and was sent as the last part.)
func (w *partWriter) storeRest(buf *bufpool.Buffer, p Span) error {
	if buf != nil {
		defer buf.Release()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	if buf == nil || p.Start+buf.Len() <= w.committed {
		return nil // nothing new: at most the old tail, still committed
	}
	end := p.Start + buf.Len()
	key := w.h.tailKeyFor(end)
	if err := w.e.drv.PutObject(w.ctx, key, buf); err != nil {
		return fmt.Errorf("multipart: tail of %s: %w", w.id, err)
	}
	if w.handle == nil {
		w.handle = map[string]string{}
	}
	w.handle[w.e.keys.TailKey] = key
	w.handle[w.e.keys.TailSize] = strconv.FormatInt(buf.Len(), 10)
	w.commitLocked(backends.Progress{Offset: end})
	return w.err
}

// commitLocked commits ch with the handle changes owed; w.mu is held so
// commits happen one at a time and in order.
func (w *partWriter) commitLocked(ch backends.Progress) {
	ch.Handle = w.handle
	if err := w.commit(w.parent, ch); err != nil {
		// The lease is gone or state is unreachable: nothing more may be
		// committed, so stop the uploads still running.
		w.setErr(fmt.Errorf("multipart: commit of %s at offset %d: %w", w.id, ch.Offset, err))
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
