package redisstore

import (
	"context"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// renewer keeps every lease of a Store alive from one goroutine: each tick
// it renews the leases that are due in one pipelined round trip. A
// goroutine and ticker per lease cost a deep stack per upload, most of the
// memory that grew with the number of uploads.
type renewer struct {
	s *Store

	mu     sync.Mutex
	leases map[*lease]*renewal
	closed bool
}

// renewal is the renewer's bookkeeping of one lease, guarded by renewer.mu.
type renewal struct {
	lastOK time.Time // last successful grant or renewal, measured before sending
	due    time.Time // next renewal
}

func newRenewer(s *Store) *renewer {
	return &renewer{s: s, leases: map[*lease]*renewal{}}
}

// add starts renewing l, granted at granted; false once the store closes.
func (r *renewer) add(l *lease, granted time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.leases[l] = &renewal{lastOK: granted, due: granted.Add(r.every())}
	return true
}

// remove stops renewing l; a renewal already sent is ignored when it returns.
func (r *renewer) remove(l *lease) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.leases, l)
}

// loseAll marks every lease lost and stops renewing it (the liveness key
// had a gap, so a waiter may have broken any of them).
func (r *renewer) loseAll(reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for l := range r.leases {
		l.markLost(reason)
	}
	clear(r.leases)
}

func (r *renewer) every() time.Duration { return r.s.opts.LeaseTTL / 3 }

// run renews until the store closes, then marks every lease lost. Ticks
// come every quarter of the renewal period, so a lease is renewed at most
// a quarter period late, well within its TTL.
func (r *renewer) run() {
	t := time.NewTicker(max(r.every()/4, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-r.s.closing:
			r.mu.Lock()
			r.closed = true
			for l := range r.leases {
				l.markLost("store closed")
			}
			clear(r.leases)
			r.mu.Unlock()
			return
		case <-t.C:
			r.renewDue()
		}
	}
}

// renewDue renews the leases whose time has come. A lease whose lock holds
// another token (taken over, or expired and granted anew) is lost at once;
// failing renewals are retried each period until the lease may have lapsed.
func (r *renewer) renewDue() {
	now := time.Now()
	var due []*lease
	r.mu.Lock()
	for l, rn := range r.leases {
		if !now.Before(rn.due) {
			due = append(due, l)
		}
	}
	r.mu.Unlock()
	if len(due) == 0 {
		return
	}
	ttl := r.s.opts.LeaseTTL
	ctx, cancel := context.WithTimeout(context.Background(), r.every())
	defer cancel()
	sent := time.Now()
	cmds := make([]*redis.Cmd, len(due))
	_, _ = r.s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, l := range due {
			cmds[i] = r.s.scripts.renew.EvalSha(ctx, p, []string{r.s.keysFor(l.id).lock}, uint64(l.tok), ttl.Milliseconds())
		}
		return nil
	})
	results := make([]int64, len(due))
	errs := make([]error, len(due))
	for i, l := range due {
		results[i], errs[i] = cmds[i].Int64()
		if errs[i] != nil && redis.HasErrorPrefix(errs[i], "NOSCRIPT") {
			// The server's script cache is empty (restart, failover):
			// Run loads the script again.
			results[i], errs[i] = r.s.scripts.renew.Run(ctx, r.s.client,
				[]string{r.s.keysFor(l.id).lock}, uint64(l.tok), ttl.Milliseconds()).Int64()
		}
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	for i, l := range due {
		rn, live := r.leases[l]
		if !live {
			continue // unlocked while the renewal was on its way
		}
		rn.due = sent.Add(r.every())
		switch err := errs[i]; {
		case err == nil && results[i] == 1:
			rn.lastOK = sent
			l.validUntil.Store(sent.Add(ttl).UnixNano())
		case err == nil:
			l.markLost("lock taken over or expired")
			delete(r.leases, l)
		case time.Since(rn.lastOK) >= ttl:
			l.markLost("renewal failed until the lease lapsed: " + err.Error())
			delete(r.leases, l)
		default:
			r.s.log.Warn("lease renewal failed; retrying", "upload", l.id, "err", err)
		}
	}
}
