package azblobstore

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

// testConfig returns a Config on the Azurite test container with a prefix
// of its own, whose blobs are removed when the test ends.
func testConfig(t *testing.T) Config {
	t.Helper()
	cs, name := testenv.Azurite(t)
	tn := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	cfg := Config{
		Container:        name,
		Prefix:           fmt.Sprintf("test/%s-%s/", tn, strings.ToLower(rand.Text()[:8])),
		ConnectionString: cs,
		StoreOptions:     multipart.StoreOptions{MinPartSize: MiB, PartSize: MiB},
	}
	t.Cleanup(func() {
		s, err := New(context.Background(), cfg, bufpool.New(MiB, 0), nil)
		if err != nil {
			t.Logf("cleanup: %v", err)
			return
		}
		names, _ := s.d.ListObjects(context.Background(), cfg.Prefix)
		for _, n := range names {
			_ = s.d.DeleteObject(context.Background(), n)
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
	return s
}
