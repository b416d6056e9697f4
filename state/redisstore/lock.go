package redisstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tusgate/tusgate/state"
)

const (
	// lockPoll is how often a waiter retries when no unlock notice comes
	// (the holder's lease lapsed, or the notice was lost).
	lockPoll = 75 * time.Millisecond
	// askEvery is how often a waiter repeats its release request, in case
	// the holder was not yet subscribed when it first asked.
	askEvery = 500 * time.Millisecond
	// waitMarkTTL is how long the "someone waits" marker outlives the last
	// attempt; waiters refresh it every askEvery.
	waitMarkTTL = 4 * askEvery
)

// Lock takes the upload's lease. While another request holds it, Lock asks
// that holder to release (through pub/sub, reaching every replica) and
// retries on the unlock notice or every lockPoll, until ctx ends; then the
// error wraps state.ErrLocked. Redis failures wrap state.ErrUnavailable.
func (s *Store) Lock(ctx context.Context, id string) (state.Lease, error) {
	if !validID(id) {
		return nil, invalidID(id)
	}
	k := s.keysFor(id)
	wake := s.notify.addWaiter(id)
	defer s.notify.removeWaiter(id, wake)

	poll := time.NewTimer(lockPoll)
	defer poll.Stop()
	var lastAsk, lastCheck, heldSince time.Time
	var held string // the lock value last seen while it was held
	// For the observer: whether this call asked a holder to let go, and
	// whether it broke a dead holder's lease.
	var sent, broke bool
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("redisstore: lock %s: %w: %w", id, state.ErrLocked, err)
		}
		if err := s.live.ensure(); err != nil {
			return nil, fmt.Errorf("redisstore: lock %s: %w", id, err)
		}
		ask := time.Since(lastAsk) >= askEvery
		start := time.Now()
		// Not cancelled with ctx: a grant whose reply were dropped would
		// block the upload for a whole lease. The client's timeouts bound it.
		res, err := s.scripts.lock.Run(context.WithoutCancel(ctx), s.client,
			[]string{k.lock, k.fence, k.record, k.waiting},
			s.opts.LeaseTTL.Milliseconds(), s.opts.Retention.Milliseconds(),
			boolField(ask), k.channel, waitMarkTTL.Milliseconds(), s.live.id).Result()
		if err != nil {
			return nil, s.fail("lock "+id, err)
		}
		switch v := res.(type) {
		case int64:
			l, err := s.newLease(id, state.Token(v), start)
			if errors.Is(err, errCut) {
				continue // granted across a gap of our liveness key: take it anew
			}
			if err == nil && held != "" {
				s.observeTakeover(broke)
			}
			return l, err
		case string:
			if v != held {
				// A new holder (maybe after a break): how we get the
				// upload from it is yet to be seen.
				held, heldSince, broke = v, start, false
			}
			if ask && !sent {
				sent = true
				if s.opts.Observer != nil {
					s.opts.Observer.ReleaseSent()
				}
			}
		default:
			return nil, fmt.Errorf("redisstore: lock %s: unexpected script result %T", id, res)
		}
		if ask {
			lastAsk = start
		}
		// The holder was asked and has not let go: if its process is dead,
		// break its lease instead of waiting for the lease to lapse.
		if time.Since(heldSince) >= breakAfter && time.Since(lastCheck) >= lockPoll {
			lastCheck = time.Now()
			b, err := s.breakIfDead(context.WithoutCancel(ctx), id, held)
			if err != nil {
				return nil, fmt.Errorf("redisstore: lock %s: %w", id, err)
			}
			if b {
				broke = true
				continue
			}
		}
		poll.Reset(lockPoll)
		select {
		case <-ctx.Done():
		case <-wake:
		case <-poll.C:
		}
	}
}

func (s *Store) observeTakeover(broke bool) {
	if s.opts.Observer == nil {
		return
	}
	how := state.TakeoverReleased
	if broke {
		how = state.TakeoverBroken
	}
	s.opts.Observer.TookOver(how)
}

// errCut: a grant arrived after the liveness key had a gap it predates.
var errCut = errors.New("grant predates a liveness gap")

// lease is a granted lock, renewed by the store's renewer every LeaseTTL/3.
type lease struct {
	s   *Store
	id  string
	tok state.Token

	lost       context.Context
	lose       context.CancelFunc
	lostOnce   sync.Once
	release    context.Context
	askRelease context.CancelFunc

	// validUntil is lastOK + TTL in unix nanoseconds; 0 once lost.
	validUntil atomic.Int64

	unlockOnce sync.Once
	unlockErr  error
}

func (s *Store) newLease(id string, tok state.Token, granted time.Time) (*lease, error) {
	l := &lease{s: s, id: id, tok: tok}
	l.lost, l.lose = context.WithCancel(context.Background())
	l.release, l.askRelease = context.WithCancel(context.Background())
	l.validUntil.Store(granted.Add(s.opts.LeaseTTL).UnixNano())
	s.notify.addLease(l)
	if !s.renew.add(l, granted) {
		s.notify.removeLease(l)
		_ = l.Unlock(context.Background())
		return nil, fmt.Errorf("redisstore: lock %s: %w: store closed", id, state.ErrUnavailable)
	}
	if !s.live.admit(granted) {
		l.markLost("granted before a liveness gap")
		_ = l.Unlock(context.Background())
		return nil, errCut
	}
	return l, nil
}

func (l *lease) Token() state.Token                { return l.tok }
func (l *lease) Lost() context.Context             { return l.lost }
func (l *lease) ReleaseRequested() context.Context { return l.release }

func (l *lease) markLost(reason string) {
	l.validUntil.Store(0)
	l.lostOnce.Do(func() {
		l.s.log.Warn("lease lost", "upload", l.id, "token", uint64(l.tok), "reason", reason)
		l.lose()
	})
}

// ValidUntil implements state.Lease. It never exceeds the validity of the
// process's liveness key: once that may have expired, a waiter may break
// the lease (see liveness.go).
func (l *lease) ValidUntil() time.Time {
	return time.Unix(0, min(l.validUntil.Load(), l.s.live.validUntil.Load()))
}

func (l *lease) requestRelease() {
	l.askRelease()
}

// Unlock stops renewals and deletes the lock if it still holds this
// lease's token, waking waiters. Later calls return the first result. It
// runs even when ctx is already cancelled (a request that ended must still
// let go, or the next one waits a whole lease); the client's timeouts bound it.
func (l *lease) Unlock(ctx context.Context) error {
	ctx = context.WithoutCancel(ctx)
	l.unlockOnce.Do(func() {
		l.s.renew.remove(l)
		l.s.notify.removeLease(l)
		k := l.s.keysFor(l.id)
		err := l.s.scripts.unlock.Run(ctx, l.s.client, []string{k.lock, k.waiting}, uint64(l.tok), k.channel).Err()
		if err != nil {
			l.unlockErr = l.s.fail("unlock "+l.id, err)
		}
	})
	return l.unlockErr
}
