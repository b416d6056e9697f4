package gcsstore

import (
	"context"
	"testing"

	"github.com/tusgate/tusgate/backends/bufpool"
	"github.com/tusgate/tusgate/backends/multipart"
	"github.com/tusgate/tusgate/test/backendtest"
	"github.com/tusgate/tusgate/test/testenv"
)

// testConfig returns a Config on the emulator's test bucket with a prefix
// of its own, whose objects are removed when the test ends.
func testConfig(t *testing.T) Config {
	t.Helper()
	_, bucket := testenv.GCS(t)
	cfg := Config{
		Bucket:       bucket,
		Prefix:       backendtest.Prefix(t),
		StoreOptions: multipart.StoreOptions{MinPartSize: MiB, PartSize: MiB},
	}
	backendtest.Sweep(t, New, cfg, func(ctx context.Context, s *Store) error { return s.d.deleteUnder(ctx, cfg.Prefix) })
	return cfg
}

func newStore(t *testing.T, cfg Config, pool *bufpool.Pool) *Store {
	t.Helper()
	return backendtest.Open(t, New, cfg, pool, 32*MiB)
}
