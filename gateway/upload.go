package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/hooks"
	"github.com/tusgate/tusgate/state"
)

// lock takes the upload's lease, asking a current holder to let go, and
// waits at most LockTimeout.
func (g *Gateway) lock(ctx context.Context, id string) (state.Lease, error) {
	lctx, cancel := context.WithTimeout(ctx, g.cfg.LockTimeout)
	defer cancel()
	l, err := g.locker.Lock(lctx, id)
	if err != nil {
		return nil, fmt.Errorf("lock upload %s: %w", id, err)
	}
	return l, nil
}

// unlock releases a lease even when the request's context is gone.
func (g *Gateway) unlock(l state.Lease) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := l.Unlock(ctx); err != nil {
		g.log.Warn("unlock failed; the lease will lapse on its own", "err", err)
	}
}

// uploadID reads the upload ID from the URL; anything not shaped like our
// IDs is unknown without asking a store.
func uploadID(c echo.Context) (string, error) {
	id := c.Param("id")
	if !validID(id) {
		return "", errNotFound
	}
	return id, nil
}

// lockAndLoad takes the upload's lease and reads its record under it; the
// caller unlocks.
func (g *Gateway) lockAndLoad(ctx context.Context, id string) (state.Lease, *state.Upload, error) {
	lease, err := g.lock(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	u, err := g.load(ctx, id)
	if err != nil {
		g.unlock(lease)
		return nil, nil, err
	}
	return lease, u, nil
}

// load reads an upload and refuses expired ones.
func (g *Gateway) load(ctx context.Context, id string) (*state.Upload, error) {
	u, err := g.store.Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("load upload %s: %w", id, err)
	}
	if u.Terminated() {
		return nil, protoErr(errNotFound, "the upload was terminated")
	}
	if g.expired(u, time.Now()) {
		return nil, protoErr(errGone, "it was not finished before %s", u.ExpiresAt.UTC().Format(http.TimeFormat))
	}
	return u, nil
}

// expired reports whether the sweeper may remove u: unfinished past its
// expiry, or marked terminated.
func (g *Gateway) expired(u *state.Upload, now time.Time) bool {
	return u.Terminated() || (!u.Finished && !u.ExpiresAt.IsZero() && now.After(u.ExpiresAt))
}

// commit records ch under the lease's token and applies it to u. Unless the
// change says otherwise, activity pushes the expiry of an unfinished upload.
func (g *Gateway) commit(ctx context.Context, u *state.Upload, tok state.Token, ch state.Change) error {
	if ch.ExpiresAt == nil && !ch.Finished && g.cfg.Expiration > 0 {
		exp := time.Now().Add(g.cfg.Expiration).Truncate(time.Second)
		ch.ExpiresAt = &exp
	}
	if err := g.store.Commit(ctx, u.ID, tok, u.Offset, ch); err != nil {
		return fmt.Errorf("commit upload %s: %w", u.ID, err)
	}
	u.Apply(ch)
	return nil
}

// appendBody streams the request body into the backend at u.Offset while
// the caller holds lease. u is updated with every commit, and progress (if
// set) is told the new offset. With a checksum (header or trailer) nothing
// is committed until the digest is verified.
func (g *Gateway) appendBody(ctx context.Context, u *state.Upload, lease state.Lease, r *http.Request, w http.ResponseWriter, ck *checksumRequest, progress func(int64)) error {
	limit := int64(math.MaxInt64)
	switch {
	case !u.DeferLength():
		limit = u.Length - u.Offset
	case g.cfg.MaxSize > 0:
		limit = g.cfg.MaxSize - u.Offset
	}
	if r.ContentLength > limit {
		return protoErr(errTooLarge, "the body has %d bytes but the upload takes at most %d more", r.ContentLength, limit)
	}

	guard := newBodyReader(r.Body, w, g.cfg.IdleTimeout, minRate{g.cfg.MinUploadRate, g.cfg.RateWindow}, lease.ValidUntil)
	defer guard.done()
	// The write outlives a client that hangs up: what arrived must still be
	// stored and committed (invariant 6). Only a lost lease cancels it.
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	// A takeover, a lost lease or shutdown ends the body. AfterFunc starts
	// no goroutine until one happens; one firing after the body is done
	// finds the guard done and leaves the (recycled) response alone.
	for _, stop := range []func() bool{
		context.AfterFunc(lease.ReleaseRequested(), func() { guard.interrupt(errTakenOver) }),
		context.AfterFunc(lease.Lost(), func() { guard.interrupt(state.ErrFenced); cancel() }),
		context.AfterFunc(g.shutdown, func() { guard.interrupt(errShuttingDown) }),
	} {
		defer stop()
	}

	lim := &limitedBody{r: guard, n: limit}
	var body io.Reader = lim
	_, trailer := r.Trailer[hdrUploadChecksum]
	var hasher *bodyHasher
	if ck != nil || trailer {
		alg := ""
		if ck != nil {
			alg = ck.algorithm
		}
		hasher = newBodyHasher(alg)
		body = io.TeeReader(body, hasher)
	}

	start := u.Offset
	events := g.receiveEvents(ctx, u)
	defer events.done(u)
	var pending backends.Progress
	pendingAny := false
	commit := func(cctx context.Context, p backends.Progress) error {
		if hasher != nil {
			pending.Merge(p)
			pendingAny = true
			return nil
		}
		err := g.commit(cctx, u, lease.Token(), p.Change())
		if errors.Is(err, state.ErrFenced) || errors.Is(err, state.ErrConflict) || errors.Is(err, state.ErrNotApplied) {
			// Surely not applied: what only this change points to (a new
			// tail) would stay in the bucket for good. After an ambiguous
			// failure it stays; the commit may have applied.
			g.discard(context.WithoutCancel(cctx), u, p)
		}
		if err == nil {
			events.committed(u)
			if progress != nil {
				progress(u.Offset)
			}
		}
		return err
	}
	g.metrics.active.Inc()
	err := g.backend.Write(wctx, u.Clone(), body, commit)
	g.metrics.active.Dec()
	if err == nil && lim.n == 0 {
		// A backend may stop reading once the upload is full; a body that
		// goes on is still an overflow (413), whatever the backend did.
		if _, perr := lim.Read(make([]byte, 1)); errors.Is(perr, errTooLarge) {
			err = perr
		}
	}

	if hasher != nil {
		if err == nil {
			err = g.verify(r, hasher, ck)
		}
		if err == nil && pendingAny {
			err = g.commit(wctx, u, lease.Token(), pending.Change())
		}
		if err != nil && pendingAny {
			g.discard(wctx, u, pending)
		}
	}
	g.metrics.bytes.Add(float64(u.Offset - start))
	if err != nil {
		return g.stoppedOr(ctx, u.ID, fmt.Errorf("write upload %s: %w", u.ID, err))
	}
	return nil
}

// verify checks the body digest against the header or the trailer.
func (g *Gateway) verify(r *http.Request, h *bodyHasher, ck *checksumRequest) error {
	if ck == nil {
		v := r.Trailer.Get(hdrUploadChecksum)
		if v == "" {
			return protoErr(errBadRequest, "the announced Upload-Checksum trailer was not sent")
		}
		parsed, err := parseChecksum(v)
		if err != nil {
			return err
		}
		ck = &parsed
	}
	if !h.matches(*ck) {
		return protoErr(errChecksumMismatch, "the body's %s digest differs from Upload-Checksum; nothing was stored", ck.algorithm)
	}
	return nil
}

// discard lets the backend remove data that a Write stored but that was
// never committed.
func (g *Gateway) discard(ctx context.Context, u *state.Upload, p backends.Progress) {
	d, ok := g.backend.(backends.Discarder)
	if !ok {
		return
	}
	if err := d.Discard(ctx, u.Clone(), p); err != nil {
		g.log.Warn("discard uncommitted data", "id", u.ID, "err", err)
	}
}

// finish assembles the object of a complete upload and marks it finished.
// It is a no-op unless every byte is there and it has not run yet, so any
// request that finds an upload complete-but-unfinished (after a crash)
// can call it.
func (g *Gateway) finish(ctx context.Context, u *state.Upload, tok state.Token) error {
	if u.Finished || !u.Complete() || u.Final() {
		return nil
	}
	// pre-finish holds the lock while the receiver answers: the upload
	// must not change between its approval and the assembly.
	if err := g.approveFinish(ctx, u); err != nil {
		return err
	}
	parts, err := g.store.Parts(ctx, u.ID)
	if err != nil {
		return fmt.Errorf("read manifest of %s: %w", u.ID, err)
	}
	if err := g.backend.Finish(ctx, u.Clone(), parts); err != nil {
		var lost *backends.LostError
		if errors.As(err, &lost) {
			return g.rewind(ctx, u, tok, lost)
		}
		return fmt.Errorf("finish upload %s: %w", u.ID, err)
	}
	never := time.Time{}
	if err := g.commit(ctx, u, tok, state.Change{Offset: u.Offset, Finished: true, ExpiresAt: &never}); err != nil {
		return err
	}
	g.metrics.finished.Inc()
	g.postHook(ctx, hooks.PostFinish, u)
	g.log.InfoContext(ctx, "upload finished", "id", u.ID, "size", u.Length)
	return nil
}

// rewind records that the store lost bytes of u it had acknowledged: the
// offset goes back to what it still holds, so the client, told by the
// error (409) and the next HEAD, sends the rest again and the upload can
// still finish. It returns the error for the client; when nothing needs
// sending again (only the store's session was gone), it finishes at once.
func (g *Gateway) rewind(ctx context.Context, u *state.Upload, tok state.Token, lost *backends.LostError) error {
	from := u.Offset
	if err := g.commit(ctx, u, tok, lost.Rewind.Change()); err != nil {
		return fmt.Errorf("rewind upload %s after the store lost bytes: %w", u.ID, err)
	}
	g.metrics.rewound.Inc()
	g.log.ErrorContext(ctx, "the store lost acknowledged bytes of an upload; its offset went back",
		"id", u.ID, "from", from, "to", u.Offset, "err", lost.Err)
	if u.Offset == from {
		return g.finish(ctx, u, tok)
	}
	return protoErr(errRewound, "the storage lost bytes %d to %d of this upload; send them again from Upload-Offset %d",
		u.Offset, from, u.Offset)
}

// approveFinish asks pre-finish about completing u; a status of 400 or more
// in the answer refuses it, and u stays complete but unfinished.
func (g *Gateway) approveFinish(ctx context.Context, u *state.Upload) error {
	res, err := g.preHook(ctx, hooks.PreFinish, u)
	if err != nil {
		return err
	}
	if refuses(hooks.PreFinish, res) {
		return reject(hooks.PreFinish, res.HTTPResponse, res.HTTPResponse.StatusCode, "upload completion has been refused by the server")
	}
	return nil
}

// loadPartials reads the partial uploads of a final upload. ready is true
// when every one of them is finished (their objects exist).
func (g *Gateway) loadPartials(ctx context.Context, ids []string) (partials []*state.Upload, ready bool, err error) {
	ready = true
	for _, id := range ids {
		p, err := g.load(ctx, id)
		if err != nil {
			return nil, false, fmt.Errorf("partial upload %s: %w", id, err)
		}
		if !p.Partial {
			return nil, false, protoErr(errBadRequest, "upload %s is not a partial upload (Upload-Concat: partial)", id)
		}
		ready = ready && p.Finished
		partials = append(partials, p)
	}
	return partials, ready, nil
}

// totalLength is the sum of the partials' lengths, or -1 while one is
// deferred. A sum beyond int64 or the maximum size is refused.
func (g *Gateway) totalLength(partials []*state.Upload) (int64, error) {
	var total int64
	deferred := false
	for _, p := range partials {
		if p.DeferLength() {
			deferred = true
			continue
		}
		if total > math.MaxInt64-p.Length {
			return 0, protoErr(errTooLarge, "the partials add up to more than %d bytes", int64(math.MaxInt64))
		}
		total += p.Length
	}
	if g.cfg.MaxSize > 0 && total > g.cfg.MaxSize {
		return 0, protoErr(errTooLarge, "the partials add up to %d bytes or more, more than %d", total, g.cfg.MaxSize)
	}
	if deferred {
		return -1, nil
	}
	return total, nil
}

// concatLocked joins finished partials into the final upload u; the caller
// holds the final's lease.
func (g *Gateway) concatLocked(ctx context.Context, u *state.Upload, tok state.Token, partials []*state.Upload) error {
	total, err := g.totalLength(partials)
	if err != nil {
		return err
	}
	final := u.Clone()
	final.Length = total
	// A final upload is approved like any other, as whole (tusd asks
	// pre-finish for finals too).
	approve := final.Clone()
	approve.Offset = total
	if err := g.approveFinish(ctx, approve); err != nil {
		return err
	}
	if err := g.concater.Concat(ctx, final, partials); err != nil {
		return fmt.Errorf("concatenate into %s: %w", u.ID, err)
	}
	never := time.Time{}
	ch := state.Change{Offset: total, Finished: true, ExpiresAt: &never}
	if u.DeferLength() {
		ch.Length = &total
	}
	if err := g.commit(ctx, u, tok, ch); err != nil {
		return err
	}
	g.metrics.finished.Inc()
	g.postHook(ctx, hooks.PostFinish, u)
	g.log.InfoContext(ctx, "upload concatenated", "id", u.ID, "size", total, "partials", len(partials))
	return nil
}

// resolveFinal brings an unfinished final upload up to date: it
// concatenates when every partial is finished, and otherwise reports the
// length once every partial's length is known (concatenation-unfinished).
func (g *Gateway) resolveFinal(ctx context.Context, u *state.Upload) (*state.Upload, error) {
	if !u.Final() || u.Finished {
		return u, nil
	}
	partials, ready, err := g.loadPartials(ctx, u.Partials)
	if err != nil {
		return nil, err
	}
	if !ready {
		if u.Length, err = g.totalLength(partials); err != nil {
			return nil, err
		}
		return u, nil
	}
	lease, err := g.lock(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	defer g.unlock(lease)
	if u, err = g.load(ctx, u.ID); err != nil || u.Finished {
		return u, err
	}
	if err := g.concatLocked(ctx, u, lease.Token(), partials); err != nil {
		return nil, err
	}
	return u, nil
}
