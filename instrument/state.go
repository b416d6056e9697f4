package instrument

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/tusgate/tusgate/state"
)

type store struct {
	next state.Store
	name string
	m    *Metrics
	tr   trace.Tracer
}

// Store wraps s, named name (a configured store kind such as "redis").
func Store(s state.Store, name string, m *Metrics, tp trace.TracerProvider) state.Store {
	return &store{next: s, name: name, m: m, tr: tracerOf(tp)}
}

func (s *store) start(ctx context.Context, op, id string) (context.Context, func(error)) {
	attrs := []attribute.KeyValue{attribute.String("tusgate.state", s.name)}
	if id != "" {
		attrs = append(attrs, attribute.String("tusgate.upload_id", id))
	}
	ctx, c := begin(ctx, s.tr, "state."+op, attrs...)
	return ctx, func(err error) {
		// Not found, exists and an offset conflict are answers the
		// protocol expects; a fenced commit is counted on its own.
		secs, failed := c.end(err, state.ErrNotFound, state.ErrExists, state.ErrConflict, state.ErrFenced)
		s.m.stateSeconds.WithLabelValues(s.name, op).Observe(secs)
		if failed {
			s.m.stateErrors.WithLabelValues(s.name, op).Inc()
		}
		if errors.Is(err, state.ErrFenced) {
			s.m.fenced.Inc()
		}
	}
}

func (s *store) Create(ctx context.Context, u *state.Upload) (err error) {
	ctx, done := s.start(ctx, "create", u.ID)
	defer func() { done(err) }()
	return s.next.Create(ctx, u)
}

func (s *store) Get(ctx context.Context, id string) (u *state.Upload, err error) {
	ctx, done := s.start(ctx, "get", id)
	defer func() { done(err) }()
	return s.next.Get(ctx, id)
}

func (s *store) Parts(ctx context.Context, id string) (p []state.Part, err error) {
	ctx, done := s.start(ctx, "parts", id)
	defer func() { done(err) }()
	return s.next.Parts(ctx, id)
}

func (s *store) Commit(ctx context.Context, id string, tok state.Token, expect int64, ch state.Change) (err error) {
	ctx, done := s.start(ctx, "commit", id)
	defer func() { done(err) }()
	return s.next.Commit(ctx, id, tok, expect, ch)
}

func (s *store) Delete(ctx context.Context, id string, tok state.Token) (err error) {
	ctx, done := s.start(ctx, "delete", id)
	defer func() { done(err) }()
	return s.next.Delete(ctx, id, tok)
}

func (s *store) Stop(ctx context.Context, id, reason string) (err error) {
	ctx, done := s.start(ctx, "stop", id)
	defer func() { done(err) }()
	return s.next.Stop(ctx, id, reason)
}

func (s *store) Expired(ctx context.Context, now time.Time, limit int) (ids []string, err error) {
	ctx, done := s.start(ctx, "expired", "")
	defer func() { done(err) }()
	return s.next.Expired(ctx, now, limit)
}

func (s *store) Ping(ctx context.Context) (err error) {
	ctx, done := s.start(ctx, "ping", "")
	defer func() { done(err) }()
	return s.next.Ping(ctx)
}

func (s *store) Close() error { return s.next.Close() }

type locker struct {
	next state.Locker
	m    *Metrics
	tr   trace.Tracer
}

// Locker wraps l: a span and a wait-time observation per Lock, and counts
// of release requests the leases it grants receive and answer.
func Locker(l state.Locker, m *Metrics, tp trace.TracerProvider) state.Locker {
	return &locker{next: l, m: m, tr: tracerOf(tp)}
}

func (l *locker) Lock(ctx context.Context, id string) (state.Lease, error) {
	ctx, c := begin(ctx, l.tr, "lock", attribute.String("tusgate.upload_id", id))
	granted, err := l.next.Lock(ctx, id)
	result := "acquired"
	switch {
	case err == nil:
	case errors.Is(err, state.ErrLocked), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		// The holder did not let go in time, or the client went away.
		result = "timeout"
	default:
		result = "error"
	}
	if result == "timeout" {
		_, _ = c.end(nil)
	} else {
		_, _ = c.end(err)
	}
	l.m.lockWait.WithLabelValues(result).Observe(time.Since(c.start).Seconds())
	if err != nil {
		return nil, err
	}
	l.m.locksHeld.Inc()
	w := &lease{Lease: granted, m: l.m}
	// AfterFunc starts no goroutine unless the context ends.
	w.stopAsked = context.AfterFunc(granted.ReleaseRequested(), l.m.releaseAsked.Inc)
	w.stopLost = context.AfterFunc(granted.Lost(), l.m.leasesLost.Inc)
	return w, nil
}

type lease struct {
	state.Lease
	m                   *Metrics
	stopAsked, stopLost func() bool
	// once: Unlock may be called more than once (state.Lease); the gauge
	// and counters move on the first call only.
	once sync.Once
}

func (l *lease) Unlock(ctx context.Context) error {
	first := false
	l.once.Do(func() {
		first = true
		// Stop the watchers first: some stores end these contexts on
		// unlock, which is neither a request nor a loss.
		l.stopAsked()
		l.stopLost()
		l.m.locksHeld.Dec()
	})
	asked := first && l.ReleaseRequested().Err() != nil
	err := l.Lease.Unlock(ctx)
	if asked && err == nil {
		l.m.releaseDone.Inc()
	}
	return err
}
