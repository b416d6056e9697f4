// Package gcsstore stores tus uploads in Google Cloud Storage on the part
// engine (backends/multipart). Each part is an object of its own under a
// hidden per-upload prefix (PREFIX/ID.parts/), written in one request from
// a buffer of the process-wide bufpool while the body still arrives and
// committed to the manifest (with its generation) once the write returned.
// Completion composes the parts, in rounds of at most 32 sources, into
// PREFIX/ID and removes them. A GCS resumable session is never the unit of
// progress: the SDK cannot re-attach to one from another process, so
// nothing a replica's death would lose is kept in one.
package gcsstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"cloud.google.com/go/storage"
	"github.com/googleapis/gax-go/v2"
	"google.golang.org/api/option"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/backends/bufpool"
	"github.com/tusgate/tusgate/backends/multipart"
	"github.com/tusgate/tusgate/state"
)

// Store is the GCS backend. It implements backends.Backend, Concater,
// RangeReader and Discarder, plus PresignGet when it can sign.
type Store struct {
	*multipart.Engine
	d *driver
}

// driver is the GCS side of the part engine.
type driver struct {
	cfg    Config
	client *storage.Client
	bucket *storage.BucketHandle
	gate   *multipart.Gate
	log    *slog.Logger
	// sign holds what signed URLs need; nil when nothing can sign.
	sign *storage.SignedURLOptions
}

// Concater, RangeReader and Discarder come with the engine.
var (
	_ backends.Backend = (*Store)(nil)
	_ multipart.Driver = (*driver)(nil)
)

func do[T any](ctx context.Context, d *driver, call func(context.Context) (T, error)) (T, error) {
	return multipart.Do(ctx, d.gate, call)
}

// New connects to the bucket of cfg with Application Default Credentials
// (or none when STORAGE_EMULATOR_HOST points at an emulator) and checks
// that the bucket exists. Part buffers come from pool, shared by the
// process; the largest upload is what MaxComponents parts of the budget's
// size hold, at most cfg.MaxObjectSize.
func New(ctx context.Context, cfg Config, pool *bufpool.Pool, logger *slog.Logger) (*Store, error) {
	cfg, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	st, err := multipart.NewSetup("gcsstore", cfg.StoreOptions, pool, logger, "backend", "gcs", "bucket", cfg.Bucket)
	if err != nil {
		return nil, err
	}
	var opts []option.ClientOption
	if cfg.Endpoint != "" {
		opts = append(opts, option.WithEndpoint(cfg.Endpoint))
	}
	client, err := storage.NewClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("gcsstore: client: %w", err)
	}
	// Retries stay short: a client told 503 + Retry-After retries itself,
	// and a request must not hold its lease through minutes of back-off.
	client.SetRetry(storage.WithBackoff(gax.Backoff{Initial: 200 * time.Millisecond, Max: 2 * time.Second, Multiplier: 2}),
		storage.WithMaxAttempts(3))
	d := &driver{cfg: cfg, client: client, bucket: client.Bucket(cfg.Bucket), gate: multipart.NewGate(st.Conns), log: st.Log}
	maxObject := min(cfg.MaxObjectSize, MaxComponents*pool.Budget())
	eng, err := st.Open(ctx, "gcsstore", cfg.engineConfig(maxObject), d, d.check)
	if err != nil {
		client.Close()
		return nil, err
	}
	return &Store{Engine: eng, d: d}, nil
}

// check is what New asks of the store: the bucket exists, and signed URLs
// can be made when they were asked for (d.sign is nil when not).
func (d *driver) check(ctx context.Context) error {
	if _, err := d.bucket.Attrs(ctx); err != nil {
		if errors.Is(err, storage.ErrBucketNotExist) {
			return fmt.Errorf("gcsstore: bucket %q does not exist: %w", d.cfg.Bucket, err)
		}
		return fmt.Errorf("gcsstore: cannot access bucket %q: %w", d.cfg.Bucket, classify("GetBucket", err))
	}
	var err error
	if d.sign, err = signer(d.cfg); err != nil || d.sign == nil {
		return err
	}
	// Signing is local with a key; without one the SDK finds the account
	// of the credentials (and signs through IAM), which may be impossible:
	// find out now, not at the first download.
	if _, err := d.bucket.SignedURL("probe", d.signOptions(time.Minute)); err != nil {
		if d.cfg.PresignTTL > 0 || d.cfg.SignKeyFile != "" {
			return fmt.Errorf("gcsstore: signed URLs were asked for but cannot be made: %w", err)
		}
		d.log.Info("signed download URLs are not available with these credentials", "err", err)
		d.sign = nil
	}
	return nil
}

// signer returns the signing options: the key file's account and key, or
// nothing set (the SDK detects them from the credentials).
func signer(cfg Config) (*storage.SignedURLOptions, error) {
	o := &storage.SignedURLOptions{Method: "GET", Scheme: storage.SigningSchemeV4}
	if h := os.Getenv("STORAGE_EMULATOR_HOST"); h != "" && !strings.HasPrefix(h, "https://") {
		o.Insecure = true // emulators serve plain HTTP
	}
	if cfg.SignKeyFile == "" {
		return o, nil
	}
	raw, err := os.ReadFile(cfg.SignKeyFile)
	if err != nil {
		return nil, fmt.Errorf("gcsstore: sign_key_file: %w", err)
	}
	var key struct {
		ClientEmail string `json:"client_email"`
		PrivateKey  string `json:"private_key"`
	}
	if err := json.Unmarshal(raw, &key); err != nil || key.ClientEmail == "" || key.PrivateKey == "" {
		return nil, fmt.Errorf("gcsstore: sign_key_file %s is not a service-account key (client_email, private_key): %v",
			cfg.SignKeyFile, err)
	}
	o.GoogleAccessID, o.PrivateKey = key.ClientEmail, []byte(key.PrivateKey)
	return o, nil
}

func (d *driver) signOptions(ttl time.Duration) *storage.SignedURLOptions {
	o := *d.sign
	o.Expires = time.Now().Add(ttl)
	return &o
}

// Config returns the normalised configuration in use.
func (s *Store) Config() Config { return s.d.cfg }

// Ping checks that the bucket is reachable.
func (s *Store) Ping(ctx context.Context) error {
	_, err := do(ctx, s.d, func(ctx context.Context) (*storage.BucketAttrs, error) { return s.d.bucket.Attrs(ctx) })
	return classify("GetBucket", err)
}

// Close releases the client's connections.
func (s *Store) Close() error { return s.d.client.Close() }

// Capabilities adds to the engine's: signed downloads when something can
// sign. Concatenation composes whole partials inside the store.
func (s *Store) Capabilities() backends.Capabilities {
	c := s.Engine.Capabilities()
	c.PresignedDownload = s.d.sign != nil
	c.ServerSideCopy = true
	return c
}

// Concat composes the finished partials into the final object inside the
// store when their components fit the cap together; else (partials of
// hundreds of parts each) the engine reassembles them into new parts,
// which keeps the final within the cap too.
func (s *Store) Concat(ctx context.Context, final *state.Upload, partials []*state.Upload) error {
	key := s.HandleOf(final).Key
	if exists, err := s.d.Exists(ctx, key); err != nil || exists {
		return err
	}
	srcs := make([]source, len(partials))
	for i, p := range partials {
		if p.Length < 0 || p.Offset != p.Length {
			return fmt.Errorf("gcsstore: concat %s: partial %s is not complete", final.ID, p.ID)
		}
		srcs[i] = source{key: s.HandleOf(p).Key, size: p.Length}
	}
	composed, err := s.d.composeConcat(ctx, key, final, srcs)
	if err != nil || composed {
		return err
	}
	s.d.log.InfoContext(ctx, "partials have too many components to compose; reassembling them", "upload", final.ID)
	return s.Engine.Concat(ctx, final, partials)
}

// StorageInfo says where u's object is, with the keys of tusd's gcsstore,
// for hook events.
func (s *Store) StorageInfo(u *state.Upload) map[string]string {
	return map[string]string{"Type": "gcsstore", "Bucket": s.d.cfg.Bucket, "Key": s.ObjectKey(u)}
}
