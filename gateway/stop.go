package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/tusgate/tusgate/hooks"
	"github.com/tusgate/tusgate/state"
)

// DefaultProgressInterval is how often a running body reports post-receive
// at most (tusd's -progress-hooks-interval).
const DefaultProgressInterval = time.Second

var _ hooks.Stopper = (*Gateway)(nil)

// StopUpload stops upload id wherever it is being written (a post-receive
// answer's StopUpload). It marks the record stopped, keeping resp for the
// client, so that no replica accepts more bytes for it, then takes and
// drops the upload's lock: a writer holding it, on any replica, is asked to
// release as in a takeover, stores what it received, finds the mark and
// answers 400 merged with resp, as tusd does. An upload that is gone or
// finished has nothing to stop.
func (g *Gateway) StopUpload(ctx context.Context, id string, resp hooks.HTTPResponse) error {
	reason := ""
	if resp.StatusCode != 0 || resp.Body != "" || len(resp.Header) > 0 {
		if b, err := json.Marshal(resp); err == nil && len(b) <= state.MaxStopReason {
			reason = string(b)
		}
	}
	if err := g.store.Stop(ctx, id, reason); err != nil {
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

// stoppedError is the answer to a write of a stopped upload: tusd's 400
// "upload has been stopped by server", with what the hook's answer set.
func stoppedError(u *state.Upload) error {
	var resp hooks.HTTPResponse
	_ = json.Unmarshal([]byte(u.StopReason), &resp) // none: tusd's answer as it is
	return reject(hooks.PostReceive, resp, http.StatusBadRequest, errStopped.Error())
}

// stoppedOr tells a body ended by a release request (errTakenOver) from one
// ended by a stop: the record says which. Any other error is returned as it is.
func (g *Gateway) stoppedOr(ctx context.Context, id string, err error) error {
	if !errors.Is(err, errTakenOver) {
		return err
	}
	u, gerr := g.store.Get(context.WithoutCancel(ctx), id)
	if gerr == nil && u.Stopped {
		return stoppedError(u)
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
