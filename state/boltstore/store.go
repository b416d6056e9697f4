// Package boltstore is tusgate's embedded state store: upload records, part
// manifests and an expiry index in one bbolt file, plus an in-memory lease
// table that fences every commit. One process owns the file (bbolt locks it),
// so the lease table needs no sharing; it suits single-replica deployments.
package boltstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tusgate/tusgate/state"
)

// Defaults applied to zero Options fields.
const (
	DefaultLeaseTTL    = 10 * time.Second
	DefaultOpenTimeout = 5 * time.Second
)

// Options configures a Store. Zero values select the defaults.
type Options struct {
	// LeaseTTL is how long a lease survives without renewal; holders renew
	// every LeaseTTL/3. Default DefaultLeaseTTL.
	LeaseTTL time.Duration
	// OpenTimeout bounds the wait for the file lock when another process
	// has the file open. Default DefaultOpenTimeout.
	OpenTimeout time.Duration
	// InstanceName names this process as the holder of its leases
	// (Upload.Holder); see state.CheckInstanceName. Default: none.
	InstanceName string
	// Observer, when set, hears release requests sent and takeovers.
	Observer state.LockObserver
	// Logger receives lease and store events. Default slog.Default().
	Logger *slog.Logger
}

var (
	bucketUploads = []byte("uploads")
	bucketParts   = []byte("parts")
	bucketExpiry  = []byte("expiry")
	bucketMeta    = []byte("meta")
)

// Store implements state.Store and state.Locker on one bbolt file.
type Store struct {
	db  *bolt.DB
	log *slog.Logger
	ttl time.Duration
	// name and observer come from Options.InstanceName and Observer.
	name     string
	observer state.LockObserver

	// mu guards the lease table and the token counter. Fenced writes hold
	// it for the whole bbolt transaction, so no grant can change between
	// the fence check and the durable commit (lock order: bbolt writer,
	// then mu; nothing takes mu and then waits for bbolt).
	mu     sync.Mutex
	grants map[string]*grant
	tokens tokenRange
	closed bool

	// refillMu serialises reservations of token ranges.
	refillMu sync.Mutex
	// stop ends the renewal goroutines on Close.
	stop     chan struct{}
	renewals sync.WaitGroup
}

var (
	_ state.Store  = (*Store)(nil)
	_ state.Locker = (*Store)(nil)
)

// Open opens (creating if needed) the bbolt file at path.
func Open(path string, opts Options) (*Store, error) {
	if opts.LeaseTTL <= 0 {
		opts.LeaseTTL = DefaultLeaseTTL
	}
	if opts.OpenTimeout <= 0 {
		opts.OpenTimeout = DefaultOpenTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.InstanceName != "" {
		if err := state.CheckInstanceName(opts.InstanceName); err != nil {
			return nil, fmt.Errorf("boltstore: %w", err)
		}
	}
	// The hashmap freelist stays fast as records come and go (the array one
	// degrades with fragmentation).
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.OpenTimeout, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return nil, fmt.Errorf("boltstore: open %s: %w: %w", path, state.ErrUnavailable, err)
	}
	s := &Store{
		db:       db,
		log:      opts.Logger.With("component", "boltstore"),
		ttl:      opts.LeaseTTL,
		name:     opts.InstanceName,
		observer: opts.Observer,
		grants:   make(map[string]*grant),
		stop:     make(chan struct{}),
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketUploads, bucketParts, bucketExpiry, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = s.refillTokens()
	}
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("boltstore: initialise %s: %w: %w", path, state.ErrUnavailable, err)
	}
	return s, nil
}

// Ping reports whether the file is open.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.view(func(*bolt.Tx) error { return nil })
}

// Close stops lease renewals, marks every held lease lost (its holder can no
// longer commit) and closes the file. It is safe to call more than once.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for id, g := range s.grants {
		s.endGrantLocked(id, g)
		g.lease.markLost()
	}
	close(s.stop)
	s.mu.Unlock()
	s.renewals.Wait()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("boltstore: close: %w", err)
	}
	return nil
}

// view and update run a bbolt transaction and classify failures: the
// package's sentinels pass through, anything from bbolt itself (closed file,
// I/O error) means the store is unavailable.
func (s *Store) view(fn func(*bolt.Tx) error) error {
	return classify(s.db.View(fn))
}

func (s *Store) update(fn func(*bolt.Tx) error) error {
	return classify(s.db.Update(fn))
}

// fencedUpdate runs fn in one write transaction only if tok is the current,
// unexpired grant on id. mu stays held until the transaction is durable.
func (s *Store) fencedUpdate(id string, tok state.Token, fn func(*bolt.Tx) error) error {
	locked := false
	defer func() {
		if locked {
			s.mu.Unlock()
		}
	}()
	return s.update(func(tx *bolt.Tx) error {
		s.mu.Lock()
		locked = true
		if !s.currentLocked(id, tok, time.Now()) {
			return fmt.Errorf("boltstore: upload %s, token %d: %w", id, tok, state.ErrFenced)
		}
		return fn(tx)
	})
}

func classify(err error) error {
	if err == nil {
		return nil
	}
	for _, sentinel := range []error{state.ErrNotFound, state.ErrExists, state.ErrFenced, state.ErrConflict, state.ErrUnavailable} {
		if errors.Is(err, sentinel) {
			return err
		}
	}
	return fmt.Errorf("boltstore: %w: %w", state.ErrUnavailable, err)
}
