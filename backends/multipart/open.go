package multipart

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/backends/bufpool"
	"github.com/tusgate/tusgate/state"
)

// Setup is what every store's New starts from: the process's buffer pool,
// the store's logger and how many calls it may have in flight.
type Setup struct {
	Pool  *bufpool.Pool
	Log   *slog.Logger
	Conns int
}

// NewSetup checks pool, gives logger (nil: discard) the attributes that
// name the store in every line, and sizes the store's connections from o
// and the pool's budget.
func NewSetup(store string, o StoreOptions, pool *bufpool.Pool, logger *slog.Logger, attrs ...any) (Setup, error) {
	if pool == nil {
		return Setup{}, fmt.Errorf("%s: a buffer pool is required", store)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return Setup{Pool: pool, Log: logger.With(attrs...), Conns: o.Connections(pool.Budget())}, nil
}

// Open is the end every store's New shares: the engine on drv with cfg,
// then check (the store's own start-up checks: the bucket exists, signing
// works), then the note on how far deferred-length uploads may go.
func (s Setup) Open(ctx context.Context, store string, cfg Config, drv Driver, check func(context.Context) error) (*Engine, error) {
	eng, err := New(cfg, drv, s.Pool, s.Log)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", store, err)
	}
	if err := check(ctx); err != nil {
		return nil, err
	}
	eng.LogDeferredLimit()
	return eng, nil
}

// NewRangeReader reads length bytes of u's finished object from offset
// (length < 0: to the end) with one ranged read of the driver.
func (e *Engine) NewRangeReader(ctx context.Context, u *state.Upload, offset, length int64) (io.ReadCloser, error) {
	key := e.HandleOf(u).Key
	if offset < 0 {
		return nil, fmt.Errorf("multipart: negative offset %d", offset)
	}
	if length == 0 {
		// A range cannot ask for nothing; still report a missing object.
		ok, err := e.drv.Exists(ctx, key)
		if err == nil && !ok {
			err = fmt.Errorf("multipart: no object %s: %w", key, backends.ErrNotFound)
		}
		if err != nil {
			return nil, err
		}
		return io.NopCloser(strings.NewReader("")), nil
	}
	return e.drv.OpenObject(ctx, key, offset, length)
}

// readObject appends size bytes of key from off to buf (a tail, a part of
// a partial to concatenate), with one ranged read of the driver. A body cut
// off by the network is ErrUnavailable, as when the read could not start.
func (e *Engine) readObject(ctx context.Context, key string, off, size int64, buf *bufpool.Buffer) error {
	if size == 0 {
		return nil
	}
	body, err := e.drv.OpenObject(ctx, key, off, size)
	if err != nil {
		return err
	}
	defer body.Close()
	before := buf.Len()
	if _, err := buf.ReadFrom(io.LimitReader(body, size)); err != nil {
		if backends.IsNetwork(err) {
			return fmt.Errorf("multipart: reading %s: %w: %w", key, backends.ErrUnavailable, err)
		}
		return fmt.Errorf("multipart: reading %s: %w", key, err)
	}
	if got := buf.Len() - before; got != size {
		return fmt.Errorf("multipart: %s holds %d bytes from %d, want %d", key, got, off, size)
	}
	return nil
}
