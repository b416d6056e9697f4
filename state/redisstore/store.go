package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/tusgate/tusgate/state"
)

// Store keeps upload records in Redis and grants fenced leases on them. It
// implements state.Store and state.Locker; one Store per process is enough.
type Store struct {
	client  redis.UniversalClient
	opts    Options
	log     *slog.Logger
	scripts scripts
	notify  *notifier
	renew   *renewer
	live    *liveness

	closing   chan struct{} // closed by Close; stops lease renewals
	closeOnce sync.Once
	closeErr  error
	mu        sync.Mutex // guards closed and wg.Add against Close
	closed    bool
	wg        sync.WaitGroup // the lease renewer and the notifier
}

var (
	_ state.Store  = (*Store)(nil)
	_ state.Locker = (*Store)(nil)
)

// Open connects to Redis and checks that it answers (else the error wraps
// state.ErrUnavailable). rawURL takes one of these forms:
//
//	redis://[user:pass@]host[:port][/db][?opt=v...]      standalone (port 6379, db 0)
//	rediss://...                                          the same over TLS
//	unix://[user:pass@]/path/redis.sock[?db=N]            standalone over a Unix socket
//	redis+sentinel://[user:pass@]h1[:port],h2[:port]/mastername[/db][?opt=v...]
//	rediss+sentinel://...                                 Sentinel (port 26379); TLS to all nodes
//	redis+cluster://[user:pass@]h1[:port],h2[:port][?opt=v...]
//	rediss+cluster://...                                  Cluster seed nodes (port 6379)
//
// Options in the query are go-redis's own, snake_case (dial_timeout=1s,
// read_timeout, write_timeout, max_retries, pool_size, skip_verify=true, ...).
// In Sentinel URLs the user info authenticates to the master and replicas;
// sentinel_username and sentinel_password authenticate to the sentinels.
// Unless the URL says otherwise the client fails fast: 2s dial, read and write
// timeouts, one dial attempt, no command retries (a retried commit could apply
// twice), and context deadlines are honoured.
func Open(ctx context.Context, rawURL string, opts Options) (*Store, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	client, err := newClient(rawURL)
	if err != nil {
		return nil, err
	}
	s := &Store{
		client:  client,
		opts:    opts,
		log:     opts.Logger.With("component", "redisstore"),
		scripts: newScripts(),
		closing: make(chan struct{}),
	}
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		return nil, s.fail("connect to "+redact(rawURL), err)
	}
	s.renew = newRenewer(s)
	if s.live, err = newLiveness(ctx, s); err != nil {
		_ = client.Close()
		return nil, err
	}
	s.notify = newNotifier(s)
	s.goBackground(s.renew.run)
	s.goBackground(s.live.run)
	return s, nil
}

// goBackground runs f in a goroutine that Close waits for; false once closed.
func (s *Store) goBackground(f func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
	return true
}

// Ping reports whether Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.client.Ping(ctx).Err(); err != nil {
		return s.fail("ping", err)
	}
	return nil
}

// Close stops lease renewals (their Lost channels close), the liveness
// key (deleted, so leases still held are free for the next waiter at once),
// the release subscription and the client.
func (s *Store) Close() error { return s.shutdown(true) }

// shutdown is Close; crash (tests) leaves the liveness key to expire, as a
// killed process does.
func (s *Store) shutdown(graceful bool) error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		close(s.closing)
		s.notify.close()
		s.wg.Wait()
		if graceful {
			ctx, cancel := context.WithTimeout(context.Background(), s.opts.LivenessTTL)
			if err := s.client.Del(ctx, s.live.key).Err(); err != nil {
				s.log.Debug("deleting the liveness key", "err", err)
			}
			cancel()
		}
		s.closeErr = s.client.Close()
	})
	return s.closeErr
}

// fail wraps a client error: connection-level failures and server states
// that pass (loading, failover, cluster down) wrap state.ErrUnavailable so
// the gateway answers 503; a cancelled request and real errors do not.
func (s *Store) fail(op string, err error) error {
	if errors.Is(err, context.Canceled) || (isReply(err) && !transientReply(err)) {
		return fmt.Errorf("redisstore: %s: %w", op, err)
	}
	if neverSent(err) {
		return fmt.Errorf("redisstore: %s: %w: %w: %w", op, state.ErrUnavailable, state.ErrNotApplied, err)
	}
	return fmt.Errorf("redisstore: %s: %w: %w", op, state.ErrUnavailable, err)
}

// neverSent reports whether err shows that the command never reached the
// server: no connection could be made, or the server refused it outright
// (LOADING, READONLY, ... are answers to a command not run).
func neverSent(err error) bool {
	var op *net.OpError
	return (errors.As(err, &op) && op.Op == "dial") || (isReply(err) && transientReply(err))
}

func isReply(err error) bool {
	var re redis.Error
	return errors.As(err, &re)
}

func transientReply(err error) bool {
	return redis.IsLoadingError(err) || redis.IsReadOnlyError(err) ||
		redis.IsClusterDownError(err) || redis.IsTryAgainError(err) ||
		redis.IsMasterDownError(err) || redis.IsMaxClientsError(err) ||
		redis.IsOOMError(err) || redis.IsNoReplicasError(err) ||
		redis.HasErrorPrefix(err, "BUSY")
}
