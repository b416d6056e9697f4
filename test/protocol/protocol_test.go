package protocol_test

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tusgate/tusgate/backends/bufpool"
	"github.com/tusgate/tusgate/backends/filestore"
	"github.com/tusgate/tusgate/backends/multipart"
	"github.com/tusgate/tusgate/backends/s3store"
	"github.com/tusgate/tusgate/state/boltstore"
	"github.com/tusgate/tusgate/state/redisstore"
	"github.com/tusgate/tusgate/test/protocol"
	"github.com/tusgate/tusgate/test/testenv"
)

// TestProtocolBoltFile runs the suite on the embedded default: bbolt state
// and files on disk, both in a temporary directory.
func TestProtocolBoltFile(t *testing.T) {
	protocol.Run(t, func(t *testing.T) protocol.Env {
		dir := t.TempDir()
		st, err := boltstore.Open(filepath.Join(dir, "state.db"), boltstore.Options{LeaseTTL: 3 * time.Second})
		if err != nil {
			t.Fatalf("open bolt store: %v", err)
		}
		t.Cleanup(func() { _ = st.Close() })
		be, err := filestore.New(filepath.Join(dir, "data"), filestore.Options{})
		if err != nil {
			t.Fatalf("open file store: %v", err)
		}
		t.Cleanup(func() { _ = be.Close() })
		return protocol.Env{Store: st, Locker: st, Backend: be}
	})
}

// TestProtocolRedisS3 runs the same suite on the distributed stack: Redis
// state (its own key prefix per environment) and S3 storage on MinIO (its own
// object prefix), with the minimum part size so part boundaries are crossed.
func TestProtocolRedisS3(t *testing.T) {
	redisURL := testenv.RedisURL(t)
	endpoint, bucket := testenv.S3Endpoint(t)
	protocol.Run(t, func(t *testing.T) protocol.Env {
		ctx := context.Background()
		prefix := "protocol-" + strings.ToLower(rand.Text()[:10])
		st, err := redisstore.Open(ctx, redisURL, redisstore.Options{Prefix: prefix, LeaseTTL: 3 * time.Second})
		if err != nil {
			t.Fatalf("open redis store: %v", err)
		}
		t.Cleanup(func() { _ = st.Close() })
		be, err := s3store.New(ctx, s3store.Config{
			Bucket: bucket, Prefix: prefix + "/", Endpoint: endpoint, Region: "us-east-1", PathStyle: true,
			StoreOptions: multipart.StoreOptions{MinPartSize: 5 << 20, PartSize: 5 << 20},
		}, bufpool.New(64<<20, 0), nil)
		if err != nil {
			t.Fatalf("open s3 store: %v", err)
		}
		t.Cleanup(func() { _ = be.Close() })
		return protocol.Env{Store: st, Locker: st, Backend: be}
	})
}
