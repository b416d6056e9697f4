package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tusgate/tusgate/state"
)

// Breaking the lease of a dead holder.
//
// Each Store (one per process) keeps one liveness key, PREFIX:live:ID, with a
// TTL of LivenessTTL, refreshed every LivenessTTL/4 from one goroutine: the
// cost is one command per period per process, whatever the number of leases.
// Every lock grant writes "TOKEN:ID" into the lock key, so a waiter knows whose
// process holds it. A waiter whose release request got no answer within
// breakAfter looks at the holder's liveness key; when it is gone, the holder
// has not refreshed it for a whole LivenessTTL and the waiter deletes the lock
// with a compare-and-delete of the exact value it saw, then takes it as usual
// with a new token, which fences every later commit of the old holder.
//
// Why the old holder cannot act after the break:
//   - Its lease's ValidUntil is at most the send time of its last successful
//     refresh plus LivenessTTL (see lease.ValidUntil). Redis set the key's
//     expiry after that send, so when a waiter finds the key gone, the
//     holder's ValidUntil has passed too (clocks of one machine run at the
//     same rate; across machines the drift over one second is negligible).
//     A process that was stopped (SIGSTOP, a stalled VM) and resumes finds
//     ValidUntil in the past before it reads or writes another byte.
//   - A refresh that finds the key gone (it expired while the process was
//     paused or cut off from Redis) recreates it but marks every lease granted
//     before that moment lost, since a waiter may already have broken them.
//     A grant in flight at that moment is refused by the same cut-off time
//     (lostBefore), so no lease outlives a gap in the liveness key.
//   - Commits are conditional on the token anyway (invariant 4); the above
//     only keeps a stale holder from writing bytes to the backend.
//
// The lease TTL stays long (LeaseTTL, default 10s): a holder loses its leases
// only when no refresh succeeded for LivenessTTL (default 1s; a refresh runs
// every 250ms, so that is three missed refreshes, far beyond a GC pause or a
// slow round trip) and someone waits for one of them.
const (
	// breakAfter is how long a holder has to answer a release request
	// before a waiter looks at its liveness key. A live holder answers in
	// milliseconds; a live but slow one is never broken, whatever this is.
	breakAfter = 150 * time.Millisecond
)

// liveness refreshes this process's liveness key and bounds the validity of
// its leases by it.
type liveness struct {
	s   *Store
	id  string // this process's instance ID, written into every grant
	key string

	// validUntil is the send time of the last refresh that found the key
	// alive, plus LivenessTTL, in unix nanoseconds.
	validUntil atomic.Int64

	mu sync.Mutex
	// lostBefore: leases whose grant was sent before it are invalid (the
	// key had a gap after they were granted).
	lostBefore time.Time
	lastOK     time.Time
}

// newInstanceID is unique per process: random hex, after the instance
// name when there is one ("NAME@HEX"). A name cannot hold '@' or ':', so
// the lock value "TOKEN:INSTANCE" still splits at the first ':' (replicas
// of older versions treat the whole ID as opaque) and the name is what
// precedes the last '@'.
func newInstanceID(name string) (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("redisstore: instance ID: %w", err)
	}
	if name == "" {
		return hex.EncodeToString(b), nil
	}
	return name + "@" + hex.EncodeToString(b), nil
}

// holderName is the instance name in a lock value ("" when it has none, or
// one that is not a valid name: the value comes from Redis, not from us).
func holderName(v string) string {
	inst := holderOf(v)
	i := strings.LastIndexByte(inst, '@')
	if i <= 0 || state.CheckInstanceName(inst[:i]) != nil {
		return ""
	}
	return inst[:i]
}

func (s *Store) liveKey(instance string) string { return s.opts.Prefix + ":live:" + instance }

// newLiveness creates the key once before any lease can be granted.
func newLiveness(ctx context.Context, s *Store) (*liveness, error) {
	id, err := newInstanceID(s.opts.InstanceName)
	if err != nil {
		return nil, err
	}
	lv := &liveness{s: s, id: id, key: s.liveKey(id)}
	sent := time.Now()
	if err := s.client.Set(ctx, lv.key, "1", s.opts.LivenessTTL).Err(); err != nil {
		return nil, s.fail("create liveness key", err)
	}
	lv.lastOK = sent
	lv.validUntil.Store(sent.Add(s.opts.LivenessTTL).UnixNano())
	return lv, nil
}

func (lv *liveness) every() time.Duration { return lv.s.opts.LivenessTTL / 4 }

// run refreshes the key until the store closes.
func (lv *liveness) run() {
	t := time.NewTicker(lv.every())
	defer t.Stop()
	for {
		select {
		case <-lv.s.closing:
			return
		case <-t.C:
			_ = lv.refresh() // failures are logged and judged inside
		}
	}
}

// ensure makes sure the key is fresh before a grant: after an outage
// longer than LivenessTTL a lease granted before the next periodic refresh
// would be invalid at once (ValidUntil in the past) and then cut.
func (lv *liveness) ensure() error {
	if time.Until(time.Unix(0, lv.validUntil.Load())) >= lv.s.opts.LivenessTTL/2 {
		return nil
	}
	if err := lv.refresh(); err != nil {
		return lv.s.fail("refresh liveness key", err)
	}
	return nil
}

// refresh extends the key once and returns the client's error, if any.
func (lv *liveness) refresh() error {
	ttl := lv.s.opts.LivenessTTL
	// A refresh may take up to half the TTL; a slower one counts as failed.
	ctx, cancel := context.WithTimeout(context.Background(), ttl/2)
	defer cancel()
	sent := time.Now()
	alive, err := lv.s.scripts.live.Run(ctx, lv.s.client, []string{lv.key}, ttl.Milliseconds()).Int64()
	lv.mu.Lock()
	defer lv.mu.Unlock()
	switch {
	case err == nil && alive == 1:
		if sent.After(lv.lastOK) {
			lv.lastOK = sent
		}
		lv.validUntil.Store(lv.lastOK.Add(ttl).UnixNano())
	case err == nil:
		// The key had expired: waiters may have broken any of our leases.
		lv.cutLocked("liveness key had expired (process paused or cut off from Redis)")
		if sent.After(lv.lastOK) {
			lv.lastOK = sent
		}
		lv.validUntil.Store(lv.lastOK.Add(ttl).UnixNano())
	case time.Since(lv.lastOK) >= ttl:
		// The key may be gone now; so may our leases.
		lv.cutLocked("liveness key not refreshed for " + ttl.String() + ": " + err.Error())
	default:
		lv.s.log.Warn("liveness refresh failed; retrying", "err", err)
	}
	return err
}

// cutLocked marks every lease granted so far lost. Called with lv.mu held.
func (lv *liveness) cutLocked(reason string) {
	lv.lostBefore = time.Now()
	lv.s.renew.loseAll(reason)
}

// admit reports whether a lease granted (sent) at granted may be used: false
// when the liveness key had a gap since. newLease calls it with the lease
// already registered, under the same lock as cutLocked, so a grant is either
// cut or refused, never missed.
func (lv *liveness) admit(granted time.Time) bool {
	lv.mu.Lock()
	defer lv.mu.Unlock()
	return !granted.Before(lv.lostBefore)
}

// holderOf returns the instance ID in a lock value ("" for a value without
// one, which is never broken).
func holderOf(v string) string {
	_, inst, _ := strings.Cut(v, ":")
	return inst
}

// breakIfDead deletes the lock of id if it still holds value and the
// holder's process has no liveness key; it reports whether it did.
func (s *Store) breakIfDead(ctx context.Context, id, value string) (bool, error) {
	inst := holderOf(value)
	if inst == "" || inst == s.live.id {
		return false, nil // our own process is alive by definition
	}
	n, err := s.client.Exists(ctx, s.liveKey(inst)).Result()
	if err != nil {
		return false, s.fail("check holder liveness of "+id, err)
	}
	if n > 0 {
		return false, nil
	}
	// The liveness key is in another Cluster slot than the lock, so the
	// check and the delete cannot be one script; comparing the exact value
	// makes the delete hit only the grant that was seen with a dead holder.
	k := s.keysFor(id)
	res, err := s.scripts.breakLock.Run(ctx, s.client, []string{k.lock}, value).Int64()
	if err != nil {
		return false, s.fail("break lease of "+id, err)
	}
	if res == 1 {
		s.log.Info("broke the lease of a dead holder", "upload", id, "holder", inst)
	}
	return res == 1, nil
}
