package gcse2e

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"testing"

	"cloud.google.com/go/storage"
	"google.golang.org/api/iterator"

	"github.com/tusgate/tusgate/test/e2e"
	"github.com/tusgate/tusgate/test/testenv"
)

const (
	MiB = 1 << 20
	// partSize is the part size every gateway here uses, so boundary cases
	// sit at 1 MiB and a few MiB cross many parts.
	partSize = MiB
	redisDB  = "11"
)

// env is one test's view of the services: the bucket under a prefix of its
// own, Redis database 11, and a bucket handle to check objects.
type env struct {
	bucket   string
	prefix   string
	redisURL string
	client   *storage.BucketHandle
}

func newEnv(t *testing.T) *env {
	t.Helper()
	_, bucket := testenv.GCS(t)
	c, err := storage.NewClient(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	e := &env{
		bucket: bucket, client: c.Bucket(bucket),
		redisURL: e2e.RedisDB(t, redisDB), prefix: e2e.KeyPrefix(t, "gcse2e"),
	}
	t.Cleanup(func() {
		for _, n := range e.objectsUnder(t, e.prefix) {
			_ = e.client.Object(n).Delete(context.Background())
		}
	})
	return e
}

func (e *env) storeURL(options ...string) string {
	return fmt.Sprintf("gs://%s/%s?%s", e.bucket, e.prefix, strings.Join(append([]string{"min_part_size=1M", "part_size=1M"}, options...), "&"))
}

// start runs a gateway on this env's prefix and Redis database.
func (e *env) start(t *testing.T, extra ...string) *e2e.Proc {
	t.Helper()
	return e2e.Start(t, append([]string{"--store", e.storeURL(), "--state", e.redisURL}, extra...)...)
}

func (e *env) objectName(uploadURL string) string { return e.prefix + path.Base(uploadURL) }

func (e *env) objectsUnder(t *testing.T, prefix string) []string {
	t.Helper()
	var names []string
	it := e.client.Objects(context.Background(), &storage.Query{Prefix: prefix})
	for {
		a, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return names
		}
		if err != nil {
			t.Fatalf("list %s: %v", prefix, err)
		}
		names = append(names, a.Name)
	}
}

// checkContent compares an upload, fetched through the gateway and
// directly from the bucket, with the source bytes, checks that nothing
// but the object is left under its name (no parts, intermediates or
// tails), and returns the object's attributes.
func (e *env) checkContent(t *testing.T, uploadURL string, data []byte) *storage.ObjectAttrs {
	t.Helper()
	e2e.CheckDownload(t, uploadURL, data)
	ctx, cancel := context.WithTimeout(context.Background(), e2e.RequestDeadline)
	defer cancel()
	o := e.client.Object(e.objectName(uploadURL))
	r, err := o.NewReader(ctx)
	if err != nil {
		t.Fatalf("read %s: %v", e.objectName(uploadURL), err)
	}
	defer r.Close()
	e2e.CheckReader(t, "object "+e.objectName(uploadURL), r, data)
	attrs, err := o.Attrs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if names := e.objectsUnder(t, e.objectName(uploadURL)); len(names) != 1 {
		t.Fatalf("objects left under %s: %d (%.5v)", e.objectName(uploadURL), len(names), names)
	}
	return attrs
}

func sourceData(size int, seed uint64) []byte { return testenv.Source(size, seed) }
