package redisstore

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/tusgate/tusgate/state"
)

// Options tune a Store. The zero value gives the defaults.
type Options struct {
	// Prefix starts every key and channel name. Default "tusgate". It must
	// not contain '{' or '}', which would break the per-upload hash tag.
	Prefix string
	// LeaseTTL is how long a lock grant lives without renewal; holders renew
	// every LeaseTTL/3. Default 10s.
	LeaseTTL time.Duration
	// LivenessTTL is how long this process's liveness key lives without a
	// refresh (refreshed every LivenessTTL/4). A waiter breaks the lease of
	// a holder whose key is gone, so it bounds the takeover after a crash,
	// and a lease is never valid longer than the key. Default 1s, at most
	// LeaseTTL.
	LivenessTTL time.Duration
	// Retention is how long a finished upload's record is kept. Default 7 days.
	Retention time.Duration
	// ExpiryGrace is how long an unfinished record outlives its ExpiresAt, so
	// the sweeper still finds its backend handles. Default 24h.
	ExpiryGrace time.Duration
	// MaxQueued bounds the messages of the queue (state.Queue). Default
	// DefaultMaxQueued.
	MaxQueued int
	// InstanceName names this process in its lock grants (and so in
	// Upload.Holder, which the operator page shows), e.g. the pod name; see
	// state.CheckInstanceName. Default: none, grants name only a random ID.
	InstanceName string
	// Observer, when set, hears release requests sent and takeovers.
	Observer state.LockObserver
	// Logger receives warnings about lost leases and background failures.
	// Default slog.Default().
	Logger *slog.Logger
}

const (
	defaultPrefix      = "tusgate"
	defaultLeaseTTL    = 10 * time.Second
	defaultLivenessTTL = time.Second
	defaultRetention   = 7 * 24 * time.Hour
	defaultExpiryGrace = 24 * time.Hour
	minLeaseTTL        = 100 * time.Millisecond
)

func (o Options) withDefaults() (Options, error) {
	if o.Prefix == "" {
		o.Prefix = defaultPrefix
	}
	if strings.ContainsAny(o.Prefix, "{}") {
		return o, fmt.Errorf("redisstore: prefix %q must not contain '{' or '}'", o.Prefix)
	}
	if o.LeaseTTL == 0 {
		o.LeaseTTL = defaultLeaseTTL
	}
	if o.LeaseTTL < minLeaseTTL {
		return o, fmt.Errorf("redisstore: lease TTL %v is below %v", o.LeaseTTL, minLeaseTTL)
	}
	if o.LivenessTTL == 0 {
		o.LivenessTTL = min(defaultLivenessTTL, o.LeaseTTL)
	}
	if o.LivenessTTL < minLeaseTTL || o.LivenessTTL > o.LeaseTTL {
		return o, fmt.Errorf("redisstore: liveness TTL %v must be between %v and the lease TTL %v", o.LivenessTTL, minLeaseTTL, o.LeaseTTL)
	}
	if o.Retention == 0 {
		o.Retention = defaultRetention
	}
	if o.ExpiryGrace == 0 {
		o.ExpiryGrace = defaultExpiryGrace
	}
	if o.Retention < time.Millisecond || o.ExpiryGrace < time.Millisecond {
		return o, errors.New("redisstore: retention and expiry grace must be at least 1ms")
	}
	if o.InstanceName != "" {
		if err := state.CheckInstanceName(o.InstanceName); err != nil {
			return o, fmt.Errorf("redisstore: %w", err)
		}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o, nil
}
