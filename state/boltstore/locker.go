package boltstore

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/tusgate/tusgate/state"
)

// grant is the lease table's entry for one upload.
type grant struct {
	tok      state.Token
	deadline time.Time
	lease    *lease
	// ended is closed when the grant leaves the table, waking waiters.
	ended chan struct{}
}

// Lock grants the upload's lease. While another lease holds it, Lock asks
// that holder to release and waits for the grant to end (Unlock, lapse) or
// for ctx to end, which yields an error wrapping state.ErrLocked.
func (s *Store) Lock(ctx context.Context, id string) (state.Lease, error) {
	// For the observer: whether this call found the upload held (and asked
	// its holder to let go), and whether a lease lapsed on the way.
	var sent, lapsed bool
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("boltstore: lock %s: %w: %w", id, state.ErrLocked, err)
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil, fmt.Errorf("boltstore: lock %s: store closed: %w", id, state.ErrUnavailable)
		}
		now := time.Now()
		g := s.grants[id]
		if g != nil && !now.Before(g.deadline) {
			s.log.Warn("lease lapsed without renewal; taking over", "upload", id, "token", g.tok)
			s.endGrantLocked(id, g)
			g.lease.markLost()
			g = nil
			lapsed = true
		}
		if g == nil {
			tok, ok := s.tokens.take()
			if !ok {
				s.mu.Unlock()
				if err := s.refillTokens(); err != nil {
					return nil, fmt.Errorf("boltstore: lock %s: reserve tokens: %w", id, err)
				}
				continue
			}
			l := s.grantLocked(id, tok, now)
			s.mu.Unlock()
			switch {
			case s.observer == nil:
			case lapsed:
				s.observer.TookOver(state.TakeoverLapsed)
			case sent:
				s.observer.TookOver(state.TakeoverReleased)
			}
			return l, nil
		}
		g.lease.requestRelease()
		first := !sent
		sent = true
		ended, wait := g.ended, g.deadline.Sub(now)
		s.mu.Unlock()
		if first && s.observer != nil {
			s.observer.ReleaseSent()
		}

		// Woken by the end of the grant, or at its deadline in case the
		// holder stopped renewing; never by polling.
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, fmt.Errorf("boltstore: lock %s: %w: %w", id, state.ErrLocked, ctx.Err())
		case <-ended:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// grantLocked records a new grant and starts its renewals. mu is held.
func (s *Store) grantLocked(id string, tok state.Token, now time.Time) *lease {
	l := &lease{s: s, id: id, tok: tok, done: make(chan struct{})}
	l.lost, l.lose = context.WithCancel(context.Background())
	l.released, l.askRelease = context.WithCancel(context.Background())
	s.grants[id] = &grant{tok: tok, deadline: now.Add(s.ttl), lease: l, ended: make(chan struct{})}
	s.renewals.Add(1)
	go l.renew()
	return l
}

// endGrantLocked removes g from the table and wakes its waiters. mu is held.
func (s *Store) endGrantLocked(id string, g *grant) {
	if s.grants[id] == g {
		delete(s.grants, id)
		close(g.ended)
	}
}

// currentLocked reports whether tok is id's live grant. mu is held.
func (s *Store) currentLocked(id string, tok state.Token, now time.Time) bool {
	g := s.grants[id]
	return g != nil && g.tok == tok && now.Before(g.deadline)
}

// heldLocked reports whether id has a live grant. mu is held.
func (s *Store) heldLocked(id string, now time.Time) bool {
	g := s.grants[id]
	return g != nil && now.Before(g.deadline)
}

// expireLease makes id's current grant lapse without telling its holder,
// which finds out at its next renewal. Tests use it to simulate a holder
// paused past its lease.
func (s *Store) expireLease(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g := s.grants[id]; g != nil {
		s.endGrantLocked(id, g)
	}
}

// lease implements state.Lease for one grant.
type lease struct {
	s   *Store
	id  string
	tok state.Token

	lost, released   context.Context
	lose, askRelease context.CancelFunc
	done             chan struct{}
	doneOnce         sync.Once
}

func (l *lease) Token() state.Token                { return l.tok }
func (l *lease) Lost() context.Context             { return l.lost }
func (l *lease) ReleaseRequested() context.Context { return l.released }

// ValidUntil implements state.Lease: the grant's deadline while this lease
// still owns it.
func (l *lease) ValidUntil() time.Time {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	if g := l.s.grants[l.id]; g != nil && g.tok == l.tok {
		return g.deadline
	}
	return time.Time{}
}

func (l *lease) markLost()       { l.lose() }
func (l *lease) requestRelease() { l.askRelease() }

// Unlock ends the grant if it is still this lease's; a lapsed lease leaves
// its successor alone. Safe to call more than once.
func (l *lease) Unlock(context.Context) error {
	l.doneOnce.Do(func() { close(l.done) })
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	if g := l.s.grants[l.id]; g != nil && g.tok == l.tok {
		l.s.endGrantLocked(l.id, g)
	}
	return nil
}

// renew extends the grant every TTL/3 until Unlock or Close. Finding the
// grant gone, replaced or past its deadline means the lease was lost.
func (l *lease) renew() {
	defer l.s.renewals.Done()
	t := time.NewTicker(l.s.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-l.done:
			return
		case <-l.s.stop:
			return
		case <-t.C:
		}
		s := l.s
		s.mu.Lock()
		select {
		case <-l.done: // Unlocked meanwhile: not a loss.
			s.mu.Unlock()
			return
		default:
		}
		now := time.Now()
		g := s.grants[l.id]
		switch {
		case g != nil && g.tok == l.tok && now.Before(g.deadline):
			g.deadline = now.Add(s.ttl)
			s.mu.Unlock()
			continue
		case g != nil && g.tok == l.tok:
			s.endGrantLocked(l.id, g)
		}
		s.mu.Unlock()
		s.log.Warn("lease lost", "upload", l.id, "token", l.tok)
		l.markLost()
		return
	}
}
