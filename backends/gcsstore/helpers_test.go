package gcsstore

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"

	"github.com/tusgate/tusgate/backends/bufpool"
	"github.com/tusgate/tusgate/backends/multipart"
	"github.com/tusgate/tusgate/test/testenv"
)

// testConfig returns a Config on the emulator's test bucket with a prefix
// of its own, whose objects are removed when the test ends.
func testConfig(t *testing.T) Config {
	t.Helper()
	_, bucket := testenv.GCS(t)
	tn := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	cfg := Config{
		Bucket:       bucket,
		Prefix:       fmt.Sprintf("test/%s-%s/", tn, strings.ToLower(rand.Text()[:8])),
		StoreOptions: multipart.StoreOptions{MinPartSize: MiB, PartSize: MiB},
	}
	t.Cleanup(func() {
		s, err := New(context.Background(), cfg, bufpool.New(MiB, 0), nil)
		if err != nil {
			t.Logf("cleanup: %v", err)
			return
		}
		defer s.Close()
		if err := s.d.deleteUnder(context.Background(), cfg.Prefix); err != nil {
			t.Logf("cleanup: %v", err)
		}
	})
	return cfg
}

func newStore(t *testing.T, cfg Config, pool *bufpool.Pool) *Store {
	t.Helper()
	if pool == nil {
		pool = bufpool.New(32*MiB, 0)
	}
	s, err := New(context.Background(), cfg, pool, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
