package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/tusgate/tusgate/auth/jwtauth"
	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/backends/azblobstore"
	"github.com/tusgate/tusgate/backends/bufpool"
	"github.com/tusgate/tusgate/backends/filestore"
	"github.com/tusgate/tusgate/backends/gcsstore"
	"github.com/tusgate/tusgate/backends/s3store"
	"github.com/tusgate/tusgate/config"
	"github.com/tusgate/tusgate/gateway"
	"github.com/tusgate/tusgate/hooks"
	"github.com/tusgate/tusgate/state"
	"github.com/tusgate/tusgate/state/boltstore"
	"github.com/tusgate/tusgate/state/redisstore"
)

type stateStore struct {
	store  state.Store
	locker state.Locker
}

func (s stateStore) Close() error { return s.store.Close() }

// openState picks the state store by the scheme of --state.
// obs hears the locks' waiters (metrics); name is the instance name.
func openState(ctx context.Context, cfg config.Config, name string, obs state.LockObserver, log *slog.Logger) (stateStore, error) {
	u, _ := url.Parse(cfg.State) // validated by config
	switch u.Scheme {
	case "bolt":
		path, err := localPath(u)
		if err != nil {
			return stateStore{}, fmt.Errorf("--state: %w", err)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return stateStore{}, fmt.Errorf("--state: %w", err)
		}
		s, err := boltstore.Open(path, boltstore.Options{LeaseTTL: cfg.LeaseTTL, InstanceName: name, Observer: obs, Logger: log})
		if err != nil {
			return stateStore{}, fmt.Errorf("--state %s: %w", cfg.State, err)
		}
		return stateStore{s, s}, nil
	case "redis", "rediss", "redis+sentinel", "rediss+sentinel", "redis+cluster", "rediss+cluster":
		s, err := redisstore.Open(ctx, cfg.State, redisstore.Options{
			LeaseTTL: cfg.LeaseTTL, Retention: cfg.Retention, InstanceName: name, Observer: obs, Logger: log,
		})
		if err != nil {
			return stateStore{}, fmt.Errorf("--state %s: %w", redact(cfg.State), err)
		}
		return stateStore{s, s}, nil
	}
	return stateStore{}, fmt.Errorf("--state: unknown scheme %q (use bolt:// or redis://)", u.Scheme)
}

// openBackend picks the storage backend by the scheme of --store.
func openBackend(ctx context.Context, cfg config.Config, log *slog.Logger, pool *bufpool.Pool) (backends.Backend, error) {
	u, _ := url.Parse(cfg.Store) // validated by config
	switch u.Scheme {
	case "file":
		dir, err := localPath(u)
		if err != nil {
			return nil, fmt.Errorf("--store: %w", err)
		}
		b, err := filestore.New(dir, filestore.Options{Logger: log})
		if err != nil {
			return nil, fmt.Errorf("--store %s: %w", cfg.Store, err)
		}
		return b, nil
	case "s3":
		sc, err := s3store.ParseURL(u)
		if err != nil {
			return nil, fmt.Errorf("--store: %w", err)
		}
		// Deferred-length uploads plan their part size for the largest
		// object allowed, so a --max-size keeps those parts small.
		if !u.Query().Has("max_object_size") && cfg.MaxSize > 0 {
			sc.MaxObjectSize = cfg.MaxSize
		}
		b, err := s3store.New(ctx, sc, pool, log)
		if err != nil {
			return nil, fmt.Errorf("--store %s: %w", cfg.Store, err)
		}
		return b, nil
	case "azblob":
		ac, err := azblobstore.ParseURL(u)
		if err != nil {
			return nil, fmt.Errorf("--store: %w", err)
		}
		b, err := azblobstore.New(ctx, ac, pool, log)
		if err != nil {
			return nil, fmt.Errorf("--store %s: %w", cfg.Store, err)
		}
		return b, nil
	case "gs":
		gc, err := gcsstore.ParseURL(u)
		if err != nil {
			return nil, fmt.Errorf("--store: %w", err)
		}
		if !u.Query().Has("max_object_size") && cfg.MaxSize > 0 {
			gc.MaxObjectSize = cfg.MaxSize
		}
		b, err := gcsstore.New(ctx, gc, pool, log)
		if err != nil {
			return nil, fmt.Errorf("--store %s: %w", cfg.Store, err)
		}
		return b, nil
	}
	return nil, fmt.Errorf("--store: unknown scheme %q (use file://, s3://, azblob:// or gs://)", u.Scheme)
}

// instanceName is --instance-name, else the host name (the pod name in
// Kubernetes) made safe, else "tusgate".
func instanceName(cfg config.Config) string {
	if cfg.InstanceName != "" {
		return cfg.InstanceName
	}
	host, _ := os.Hostname()
	if name := state.InstanceNameFrom(host); name != "" {
		return name
	}
	return "tusgate"
}

// localPath reads the path of a file:// or bolt:// URL: file:///abs/path is
// absolute, file://./data and file://data are relative to the working dir.
func localPath(u *url.URL) (string, error) {
	if u.RawQuery != "" {
		return "", fmt.Errorf("%s:// URLs take no query (%q)", u.Scheme, u.RawQuery)
	}
	if p := u.Host + u.Path; p != "" {
		return p, nil
	}
	return "", fmt.Errorf("%s:// URL has no path", u.Scheme)
}

// redact hides a password in a URL before it is logged.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Redacted()
}

// openHooks connects the hook receiver of --hooks-http. The dispatcher it
// returns (nil without hooks) delivers queued post-* events, which every
// replica drains from the state store's queue, once the caller runs it.
func openHooks(cfg config.Config, st stateStore, log *slog.Logger) (gateway.Hooks, *hooks.Dispatcher, error) {
	if cfg.HooksHTTP == "" {
		return gateway.Hooks{}, nil, nil
	}
	q, ok := st.store.(state.Queue)
	if !ok {
		return gateway.Hooks{}, nil, fmt.Errorf("--hooks-http: the state store %s keeps no queue", redact(cfg.State))
	}
	recv := &hooks.HTTPReceiver{
		Endpoint: cfg.HooksHTTP, Timeout: cfg.HooksTimeout, SizeLimit: cfg.HooksSizeLimit,
		ForwardHeaders: cfg.HooksForwardHeaders,
	}
	// A claimed event stays hidden from other replicas a little longer than
	// one delivery may take.
	disp := hooks.NewDispatcher(q, recv, log, hooks.DispatchOptions{Hide: 2*cfg.HooksTimeout + 5*time.Second})
	return gateway.Hooks{Receiver: recv, Poster: disp, Enabled: cfg.HooksEnabledEvents, HiddenHeaders: cfg.HooksHiddenHeaders,
		AccessCacheTTL: cfg.HooksAccessCacheTTL, ProgressInterval: cfg.HooksProgress}, disp, nil
}

// openAuth sets up JWT authentication when a key source is configured.
func openAuth(ctx context.Context, cfg config.Config) (gateway.Authenticator, error) {
	if cfg.JWTJWKSURL == "" && cfg.JWTKeyFile == "" {
		return nil, nil
	}
	// ctx ends the JWKS refreshes with the process.
	v, err := jwtauth.New(ctx, jwtauth.Options{JWKSURL: cfg.JWTJWKSURL, KeyFile: cfg.JWTKeyFile, Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience})
	if err != nil {
		return nil, fmt.Errorf("JWT authentication: %w", err)
	}
	return v, nil
}
