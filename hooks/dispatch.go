package hooks

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/tusgate/tusgate/state"
)

// Dispatcher delivers post-* events at least once. Post stores an event in
// the state store's durable queue and returns; Run, on every replica, claims
// due events, delivers them and acknowledges them, retrying failures with
// backoff. An event owed by a replica that dies stays in the queue and is
// delivered by another, once its claim's hide time lapses.
type Dispatcher struct {
	queue    state.Queue
	receiver Receiver
	log      *slog.Logger
	opts     DispatchOptions
	wake     chan struct{}
	stopper  Stopper
}

// DispatchOptions tune a Dispatcher; zero values select the defaults.
type DispatchOptions struct {
	// Poll is how often the queue is checked when nothing woke the loop.
	// Default 500ms.
	Poll time.Duration
	// Hide is how long a claimed event is hidden from other replicas; it
	// must exceed the receiver's timeout. Default 1m.
	Hide time.Duration
	// Parallel bounds concurrent deliveries per replica. Default 8.
	Parallel int
	// MaxAttempts bounds deliveries of one event before it is dropped with
	// an error log. Default 25 (about half an hour at the backoff cap).
	MaxAttempts int
	// MaxBackoff caps the delay between attempts. Default 1m.
	MaxBackoff time.Duration
}

func (o *DispatchOptions) setDefaults() {
	if o.Poll <= 0 {
		o.Poll = 500 * time.Millisecond
	}
	if o.Hide <= 0 {
		o.Hide = time.Minute
	}
	if o.Parallel <= 0 {
		o.Parallel = 8
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 25
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = time.Minute
	}
}

// NewDispatcher returns a dispatcher delivering from q to r.
func NewDispatcher(q state.Queue, r Receiver, log *slog.Logger, opts DispatchOptions) *Dispatcher {
	opts.setDefaults()
	if log == nil {
		log = slog.Default()
	}
	return &Dispatcher{queue: q, receiver: r, log: log, opts: opts, wake: make(chan struct{}, 1)}
}

// OnStop makes the dispatcher act on StopUpload in post-receive answers by
// calling s. Call it before Run.
func (d *Dispatcher) OnStop(s Stopper) { d.stopper = s }

// Post queues req for delivery. It costs one state-store write; the client
// never waits on the receiver.
func (d *Dispatcher) Post(ctx context.Context, req Request) error {
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("hooks: encode %s: %w", req.Type, err)
	}
	if err := d.queue.Enqueue(ctx, body); err != nil {
		return fmt.Errorf("hooks: queue %s: %w", req.Type, err)
	}
	select {
	case d.wake <- struct{}{}:
	default:
	}
	return nil
}

// Run delivers queued events until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) {
	t := time.NewTicker(d.opts.Poll)
	defer t.Stop()
	for {
		for d.drainOnce(ctx) {
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.wake:
		}
	}
}

// drainOnce delivers one batch; it reports whether the batch was full, so
// the caller goes on at once.
func (d *Dispatcher) drainOnce(ctx context.Context) bool {
	msgs, err := d.queue.Claim(ctx, d.opts.Parallel, d.opts.Hide)
	if err != nil {
		if ctx.Err() == nil {
			d.log.WarnContext(ctx, "hooks: claim queued events", "err", err)
		}
		return false
	}
	var g errgroup.Group
	g.SetLimit(d.opts.Parallel)
	for _, m := range msgs {
		g.Go(func() error {
			d.deliver(ctx, m)
			return nil
		})
	}
	_ = g.Wait()
	return len(msgs) == d.opts.Parallel && ctx.Err() == nil
}

func (d *Dispatcher) deliver(ctx context.Context, m state.Message) {
	var req Request
	if err := json.Unmarshal(m.Body, &req); err != nil {
		d.log.ErrorContext(ctx, "hooks: dropping an unreadable queued event", "err", err)
		_ = d.queue.Ack(ctx, m.ID)
		return
	}
	res, err := d.receiver.Invoke(ctx, req)
	if err == nil && res.StopUpload && req.Type == PostReceive && d.stopper != nil {
		// A stop that did not take is a failed delivery: the event is
		// retried, and the receiver asked again.
		if serr := d.stopper.StopUpload(ctx, req.Event.Upload.ID, res.HTTPResponse); serr != nil {
			err = fmt.Errorf("StopUpload: %w", serr)
		}
	}
	switch {
	case err == nil:
		if aerr := d.queue.Ack(ctx, m.ID); aerr != nil {
			// Delivered, but it will be delivered again: at least once.
			d.log.WarnContext(ctx, "hooks: acknowledge delivered event", "event", req.Type, "upload", req.Event.Upload.ID, "err", aerr)
		}
	case m.Attempts >= d.opts.MaxAttempts:
		d.log.ErrorContext(ctx, "hooks: event dropped after repeated failures", "event", req.Type,
			"upload", req.Event.Upload.ID, "attempts", m.Attempts, "err", err)
		_ = d.queue.Ack(ctx, m.ID)
	default:
		delay := d.backoff(m.Attempts)
		d.log.WarnContext(ctx, "hooks: delivery failed; retrying", "event", req.Type,
			"upload", req.Event.Upload.ID, "attempt", m.Attempts, "retry_in", delay, "err", err)
		if rerr := d.queue.Retry(ctx, m.ID, delay); rerr != nil && ctx.Err() == nil {
			d.log.WarnContext(ctx, "hooks: reschedule event; it returns after its hide time", "err", rerr)
		}
	}
}

// backoff doubles from 500ms per attempt up to MaxBackoff.
func (d *Dispatcher) backoff(attempt int) time.Duration {
	delay := 500 * time.Millisecond
	for i := 1; i < attempt && delay < d.opts.MaxBackoff; i++ {
		delay *= 2
	}
	return min(delay, d.opts.MaxBackoff)
}
