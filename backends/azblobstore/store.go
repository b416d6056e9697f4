// Package azblobstore stores tus uploads in Azure Blob Storage (or Azurite)
// as block blobs, on the part engine of backends/multipart: parts are
// staged blocks whose ids derive from the part number, the manifest keeps
// them, and Finish commits the block list with the object's headers and
// metadata. Tails between requests are small blobs of their own.
package azblobstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/backends/bufpool"
	"github.com/tusgate/tusgate/backends/multipart"
	"github.com/tusgate/tusgate/state"
)

// Store is the Azure backend. It implements backends.Backend, Concater,
// RangeReader and Discarder, plus PresignGet when it holds an account key.
type Store struct {
	*multipart.Engine
	d *driver
}

// driver is the Azure side of the part engine.
type driver struct {
	cfg       Config
	container *container.Client
	gate      *multipart.Gate
	log       *slog.Logger
	// sharedKey: the client signs with the account key, so SAS URLs (for
	// redirects and server-side copies) can be made.
	sharedKey bool
}

// Concater, RangeReader and Discarder come with the engine.
var (
	_ backends.Backend     = (*Store)(nil)
	_ multipart.Driver     = (*driver)(nil)
	_ multipart.PartCopier = (*driver)(nil)
)

func do[T any](ctx context.Context, d *driver, call func(context.Context) (T, error)) (T, error) {
	return multipart.Do(ctx, d.gate, call)
}

// New connects to the container of cfg and checks that it exists.
// Credentials: cfg.ConnectionString or AZURE_STORAGE_CONNECTION_STRING,
// else an account key (cfg.AccountKey or AZURE_STORAGE_KEY) for the
// account, else the default Azure credential chain.
func New(ctx context.Context, cfg Config, pool *bufpool.Pool, logger *slog.Logger) (*Store, error) {
	cfg, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	st, err := multipart.NewSetup("azblobstore", cfg.StoreOptions, pool, logger, "backend", "azblob", "container", cfg.Container)
	if err != nil {
		return nil, err
	}
	c, shared, err := newContainerClient(cfg, st.Conns)
	if err != nil {
		return nil, err
	}
	d := &driver{cfg: cfg, container: c, gate: multipart.NewGate(st.Conns), log: st.Log, sharedKey: shared}
	eng, err := st.Open(ctx, "azblobstore", cfg.engineConfig(), d, func(ctx context.Context) error {
		if _, err := c.GetProperties(ctx, nil); err != nil {
			missing := bloberror.HasCode(err, bloberror.ContainerNotFound)
			err = classify("GetContainerProperties", err)
			if missing {
				return fmt.Errorf("azblobstore: container %q does not exist at %s: %w", cfg.Container, c.URL(), err)
			}
			return fmt.Errorf("azblobstore: cannot access container %q at %s: %w", cfg.Container, c.URL(), err)
		}
		if cfg.PresignTTL > 0 && !shared {
			return errors.New("azblobstore: presign needs an account key (SAS URLs are signed with it)")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Store{Engine: eng, d: d}, nil
}

// engineConfig is what the part engine needs of c. Handle keys are in the
// "azblob" namespace.
func (c Config) engineConfig() multipart.Config {
	return c.EngineConfig(multipart.Config{
		Namespace:   "azblob",
		Prefix:      c.Prefix,
		MaxPartSize: MaxBlockSize,
		MaxParts:    MaxBlocks,
		// Put Block From URL copies any range of a source.
		CopyRangeMin: 0,
	})
}

func newContainerClient(cfg Config, conns int) (*container.Client, bool, error) {
	opts := &container.ClientOptions{ClientOptions: azcore.ClientOptions{
		// Many uploads send blocks at once to one host; the default of 2
		// idle connections per host would make most of them reconnect.
		Transport: &http.Client{Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			MaxConnsPerHost:     conns,
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			IdleConnTimeout:     90 * time.Second,
		}},
		// Retries stay short: a client told 503 + Retry-After retries
		// itself, and a request must not hold its lease through minutes
		// of back-off.
		Retry: policy.RetryOptions{MaxRetries: 3, RetryDelay: 500 * time.Millisecond, MaxRetryDelay: 5 * time.Second},
	}}
	if cs := firstOf(cfg.ConnectionString, os.Getenv("AZURE_STORAGE_CONNECTION_STRING")); cs != "" {
		c, err := container.NewClientFromConnectionString(cs, cfg.Container, opts)
		if err != nil {
			return nil, false, fmt.Errorf("azblobstore: connection string: %w", err)
		}
		return c, strings.Contains(cs, "AccountKey="), nil
	}
	account := firstOf(cfg.Account, os.Getenv("AZURE_STORAGE_ACCOUNT"))
	endpoint := cfg.Endpoint
	if endpoint == "" {
		if account == "" {
			return nil, false, errors.New("azblobstore: no account: set account= or AZURE_STORAGE_ACCOUNT, " +
				"endpoint=, or AZURE_STORAGE_CONNECTION_STRING")
		}
		endpoint = "https://" + account + ".blob.core.windows.net/"
	}
	curl := strings.TrimSuffix(endpoint, "/") + "/" + cfg.Container
	if key := firstOf(cfg.AccountKey, os.Getenv("AZURE_STORAGE_KEY")); key != "" {
		if account == "" {
			return nil, false, errors.New("azblobstore: an account key needs the account name (account= or AZURE_STORAGE_ACCOUNT)")
		}
		cred, err := container.NewSharedKeyCredential(account, key)
		if err != nil {
			return nil, false, fmt.Errorf("azblobstore: account key: %w", err)
		}
		c, err := container.NewClientWithSharedKeyCredential(curl, cred, opts)
		return c, true, err
	}
	cred, err := azidentity.NewDefaultAzureCredential(nil)
	if err != nil {
		return nil, false, fmt.Errorf("azblobstore: default Azure credential: %w", err)
	}
	c, err := container.NewClient(curl, cred, opts)
	return c, false, err
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Config returns the normalised configuration in use.
func (s *Store) Config() Config { return s.d.cfg }

// Ping checks that the container is reachable.
func (s *Store) Ping(ctx context.Context) error {
	_, err := do(ctx, s.d, func(ctx context.Context) (container.GetPropertiesResponse, error) {
		return s.d.container.GetProperties(ctx, nil)
	})
	return classify("GetContainerProperties", err)
}

// Close releases nothing: the SDK client holds no resources needing it.
func (s *Store) Close() error { return nil }

// StorageInfo says where u's blob is, with the keys of tusd's azurestore,
// for hook events.
func (s *Store) StorageInfo(u *state.Upload) map[string]string {
	return map[string]string{"Type": "azurestore", "Container": s.d.cfg.Container, "Key": s.ObjectKey(u)}
}

// Capabilities adds to the engine's: SAS downloads and server-side copies
// need the account key; staged blocks live 7 days.
func (s *Store) Capabilities() backends.Capabilities {
	c := s.Engine.Capabilities()
	c.PresignedDownload = s.d.sharedKey
	c.ServerSideCopy = s.d.sharedKey
	c.MaxUploadAge = UncommittedLifetime
	return c
}
