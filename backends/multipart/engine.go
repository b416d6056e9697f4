// Package multipart is the part engine of the object-store backends. It cuts
// request bodies into parts under the process-wide buffer budget, sends
// parts while the body is still arriving, commits them in order, keeps the
// bytes after the last full part as a durable tail, finishes the object
// from the manifest and plans concatenations. A store only provides a
// Driver: how to begin, put, copy, complete and delete.
package multipart

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/backends/bufpool"
	"github.com/tusgate/tusgate/state"
)

// Engine implements the upload half of backends.Backend (Create, Write,
// Finish, Delete, Discard, Concat) on a Driver.
type Engine struct {
	cfg    Config
	keys   Keys
	drv    Driver
	copier PartCopier // nil: concatenation streams every part
	pool   *bufpool.Pool
	log    *slog.Logger
}

// The engine's part of every object store's abilities.
var (
	_ backends.Concater    = (*Engine)(nil)
	_ backends.RangeReader = (*Engine)(nil)
	_ backends.Discarder   = (*Engine)(nil)
)

// New checks cfg and returns an engine on drv with buffers from pool.
func New(cfg Config, drv Driver, pool *bufpool.Pool, logger *slog.Logger) (*Engine, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	if pool == nil {
		return nil, errors.New("multipart: a buffer pool is required")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	e := &Engine{cfg: cfg, keys: KeysFor(cfg.Namespace), drv: drv, pool: pool, log: logger}
	e.copier, _ = drv.(PartCopier)
	return e, nil
}

// Config returns the configuration in use.
func (e *Engine) Config() Config { return e.cfg }

// Keys returns the handle keys of the engine's namespace.
func (e *Engine) Keys() Keys { return e.keys }

// LogDeferredLimit tells operators at start-up how far the buffer budget
// lets deferred-length uploads go, and warns when it refuses them outright.
func (e *Engine) LogDeferredLimit() {
	budget, limit := e.pool.Budget(), e.MaxDeferredSize()
	switch {
	case limit == 0 && e.cfg.EqualParts:
		ps, _ := e.cfg.PartSizeFor(-1)
		e.log.Warn("with equal_parts, deferred-length uploads need a part buffer larger than the buffer budget; "+
			"they will be refused unless max_object_size is lowered or the budget raised",
			"part_size", ps, "budget", budget)
	case limit == 0:
		e.log.Warn("the part size is larger than the buffer budget; uploads will be refused",
			"part_size", e.cfg.BasePartSize(), "budget", budget)
	case limit < e.cfg.MaxObjectSize:
		e.log.Info("deferred-length uploads are limited by the buffer budget: their parts grow with the offset",
			"max_deferred_size", limit, "budget", budget, "max_object_size", e.cfg.MaxObjectSize)
	}
}

// MaxDeferredSize is how many bytes a deferred-length upload can take before
// the next part of its layout no longer fits the buffer budget (Write then
// fails with backends.ErrTooLarge), at most MaxObjectSize. Zero means
// deferred-length uploads are refused at creation. An upload that declares
// its length in time may end with a shorter last part beyond it.
func (e *Engine) MaxDeferredSize() int64 {
	l, err := e.cfg.LayoutFor(-1)
	if err != nil {
		return 0
	}
	return min(l.Reach(e.pool.Budget()), e.cfg.MaxObjectSize)
}

// Create begins the multipart object and fixes the part layout.
func (e *Engine) Create(ctx context.Context, u *state.Upload) (map[string]string, error) {
	l, err := e.cfg.LayoutFor(u.Length)
	if err != nil {
		return nil, err
	}
	if ps := l.Part(1).Size; ps > e.pool.Budget() {
		return nil, fmt.Errorf("%w: a part of %d bytes does not fit the buffer budget of %d bytes",
			backends.ErrTooLarge, ps, e.pool.Budget())
	}
	key := e.cfg.Prefix + u.ID
	id, checksum, err := e.drv.Begin(ctx, u, key)
	if err != nil {
		return nil, err
	}
	return e.newHandle(key, id, checksum, l), nil
}

// Delete aborts the multipart session and removes tails and the object.
// Tails are also found by listing the upload's own tail prefix, so a tail
// whose deletion failed earlier does not stay behind.
func (e *Engine) Delete(ctx context.Context, u *state.Upload) error {
	h := e.HandleOf(u)
	ids := []string{h.UploadID}
	if h.UploadID == "" {
		// The record was written before the session id could be (creation
		// crashed in between): find the sessions under the object's name.
		var err error
		if ids, err = e.drv.Sessions(ctx, h.Key); err != nil {
			return err
		}
	}
	for _, id := range ids {
		h.UploadID = id
		if err := e.drv.Abort(ctx, h); err != nil {
			return err
		}
	}
	strays, err := e.drv.ListObjects(ctx, h.Key+TailInfix)
	if err != nil {
		return err
	}
	for _, k := range append(append([]string{h.Key}, strays...), h.TailKey, h.StaleTail) {
		if err := e.drv.DeleteObject(ctx, k); err != nil {
			return err
		}
	}
	return nil
}

// Discard deletes the tail object written for a change that was never
// committed. Parts need nothing: a later write of the same offset reuses
// their numbers and replaces them.
func (e *Engine) Discard(ctx context.Context, u *state.Upload, uncommitted backends.Progress) error {
	k := uncommitted.Handle[e.keys.TailKey]
	if k == "" || k == u.Handle[e.keys.TailKey] || k == u.Handle[e.keys.StaleTail] {
		return nil
	}
	return e.drv.DeleteObject(ctx, k)
}

// NewBuffer reserves size bytes of the pool for bytes to be sent to the
// upload of h, digesting them as they arrive when the driver wants it.
func (e *Engine) NewBuffer(ctx context.Context, size int64, h Handle) (*bufpool.Buffer, error) {
	buf, err := e.pool.Get(ctx, size)
	if err != nil {
		return nil, err
	}
	if d := e.drv.Digest(h); d != nil {
		_ = buf.HashWith(d) // cannot fail: the buffer is empty
	}
	return buf, nil
}

// deleteQuietly is for garbage whose removal may fail without harm: it is
// retried later (stale tails, Delete's listing) or swept by a lifecycle rule.
func (e *Engine) deleteQuietly(ctx context.Context, key string) {
	if err := e.drv.DeleteObject(ctx, key); err != nil {
		e.log.WarnContext(ctx, "could not delete object", "key", key, "err", err)
	}
}

// Capabilities are the engine's part of a backend's: part limits, the
// largest object, whether deferred lengths fit the budget, whether
// concatenation copies server-side. Drivers add presigning and age limits.
func (e *Engine) Capabilities() backends.Capabilities {
	return backends.Capabilities{
		Concatenation:  true,
		DeferredLength: e.MaxDeferredSize() > 0,
		ServerSideCopy: e.copier != nil,
		MaxObjectSize:  e.cfg.MaxObjectSize,
		MinPartSize:    e.cfg.MinPartSize,
		MaxPartSize:    e.cfg.MaxPartSize,
		MaxParts:       e.cfg.MaxParts,
	}
}
