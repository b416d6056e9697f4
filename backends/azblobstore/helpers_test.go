package azblobstore

import (
	"context"
	"testing"

	"github.com/tusgate/tusgate/backends/bufpool"
	"github.com/tusgate/tusgate/backends/multipart"
	"github.com/tusgate/tusgate/test/backendtest"
	"github.com/tusgate/tusgate/test/testenv"
)

// testConfig returns a Config on the Azurite test container with a prefix
// of its own, whose blobs are removed when the test ends.
func testConfig(t *testing.T) Config {
	t.Helper()
	cs, name := testenv.Azurite(t)
	cfg := Config{
		Container:        name,
		Prefix:           backendtest.Prefix(t),
		ConnectionString: cs,
		StoreOptions:     multipart.StoreOptions{MinPartSize: MiB, PartSize: MiB},
	}
	backendtest.Sweep(t, New, cfg, func(ctx context.Context, s *Store) error {
		names, err := s.d.ListObjects(ctx, cfg.Prefix)
		for _, n := range names {
			_ = s.d.DeleteObject(ctx, n)
		}
		return err
	})
	return cfg
}

func newStore(t *testing.T, cfg Config, pool *bufpool.Pool) *Store {
	t.Helper()
	return backendtest.Open(t, New, cfg, pool, 32*MiB)
}
