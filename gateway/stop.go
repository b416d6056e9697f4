package gateway

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tusgate/tusgate/hooks"
	"github.com/tusgate/tusgate/state"
)

// DefaultProgressInterval is how often a running body reports post-receive
// at most (tusd's -progress-hooks-interval).
const DefaultProgressInterval = time.Second

var _ hooks.Stopper = (*Gateway)(nil)

// StopUpload stops upload id wherever it is being written (a post-receive
// answer's StopUpload). It marks the record stopped, so that no replica
// accepts more bytes for it, then takes and drops the upload's lock: a
// writer holding it, on any replica, is asked to release as in a takeover,
// stores what it received, finds the mark and answers 400. An upload that
// is gone or finished has nothing to stop.
func (g *Gateway) StopUpload(ctx context.Context, id string) error {
	if err := g.store.Stop(ctx, id); err != nil {
		if errors.Is(err, state.ErrNotFound) {
			return nil
		}
		return fmt.Errorf("stop upload %s: %w", id, err)
	}
	lease, err := g.lock(ctx, id)
	if err != nil {
		return fmt.Errorf("stop upload %s: %w", id, err)
	}
	g.unlock(lease)
	g.log.InfoContext(ctx, "upload stopped by a hook", "id", id)
	return nil
}

// stoppedOr tells a body ended by a release request (errTakenOver) from one
// ended by a stop: the record says which. Any other error is returned as it is.
func (g *Gateway) stoppedOr(ctx context.Context, id string, err error) error {
	if !errors.Is(err, errTakenOver) {
		return err
	}
	u, gerr := g.store.Get(context.WithoutCancel(ctx), id)
	if gerr == nil && u.Stopped {
		return &protoError{sentinel: errStopped, cause: err}
	}
	return err
}

// receiveReporter posts post-receive while a body is stored, as tusd's
// progress hooks do: after the first commit, then after a commit at most
// every ProgressInterval, and at the end for bytes not reported yet. Events
// follow commits, so Offset only ever counts stored bytes.
type receiveReporter struct {
	g        *Gateway
	ctx      context.Context
	every    time.Duration
	last     time.Time
	reported int64
}

func (g *Gateway) receiveEvents(ctx context.Context, u *state.Upload) *receiveReporter {
	every := g.cfg.Hooks.ProgressInterval
	if every <= 0 {
		every = DefaultProgressInterval
	}
	return &receiveReporter{g: g, ctx: ctx, every: every, reported: u.Offset}
}

// committed runs after each commit; commits come one at a time.
func (p *receiveReporter) committed(u *state.Upload) {
	if time.Since(p.last) >= p.every {
		p.post(u)
	}
}

func (p *receiveReporter) done(u *state.Upload) {
	if u.Offset > p.reported {
		p.post(u)
	}
}

func (p *receiveReporter) post(u *state.Upload) {
	p.g.postHook(p.ctx, hooks.PostReceive, u)
	p.last, p.reported = time.Now(), u.Offset
}
