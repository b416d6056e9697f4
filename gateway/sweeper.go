package gateway

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tusgate/tusgate/state"
)

// sweepBatch bounds the work of one sweep; the next tick takes the rest.
const sweepBatch = 100

// RunSweeper removes expired unfinished uploads every SweepInterval until
// ctx ends. Every replica may run it: each removal happens under the
// upload's lock and re-checks the expiry, so replicas never race.
// It runs with expiration disabled too: terminations cut short by a crash
// are completed here.
func (g *Gateway) RunSweeper(ctx context.Context) {
	t := time.NewTicker(g.cfg.SweepInterval)
	defer t.Stop()
	for {
		if _, err := g.Sweep(ctx); err != nil && ctx.Err() == nil {
			g.log.WarnContext(ctx, "sweep expired uploads", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sweep removes one batch of expired uploads and returns how many it removed.
func (g *Gateway) Sweep(ctx context.Context) (int, error) {
	ids, err := g.store.Expired(ctx, time.Now(), sweepBatch)
	if err != nil {
		return 0, fmt.Errorf("list expired uploads: %w", err)
	}
	n := 0
	var errs []error
	for _, id := range ids {
		removed, err := g.expire(ctx, id)
		if err != nil {
			errs = append(errs, err)
		}
		if removed {
			n++
		}
	}
	return n, errors.Join(errs...)
}

func (g *Gateway) expire(ctx context.Context, id string) (bool, error) {
	lease, err := g.lock(ctx, id)
	if err != nil {
		return false, err
	}
	defer g.unlock(lease)
	u, err := g.store.Get(ctx, id)
	if errors.Is(err, state.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("load expired upload %s: %w", id, err)
	}
	if !g.expired(u, time.Now()) {
		return false, nil // a commit moved the expiry since the index was read
	}
	terminated := u.Terminated()
	if err := g.remove(ctx, u, lease.Token()); err != nil {
		return false, err
	}
	if terminated {
		g.log.InfoContext(ctx, "interrupted termination completed", "id", id)
		return true, nil
	}
	g.metrics.expired.Inc()
	g.log.InfoContext(ctx, "expired upload removed", "id", id)
	return true, nil
}
