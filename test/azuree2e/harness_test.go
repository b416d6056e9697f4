package azuree2e

import (
	"context"
	"fmt"
	"path"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/tusgate/tusgate/test/e2e"
	"github.com/tusgate/tusgate/test/testenv"
)

const (
	MiB = 1 << 20
	// partSize is the block size every gateway here uses, so boundary cases
	// sit at 1 MiB and a few MiB cross many blocks.
	partSize = MiB
	redisDB  = "10"
)

// env is one test's view of the services: the container under a prefix of
// its own, Redis database 10, and a container client to check blobs.
type env struct {
	connString string
	container  string
	prefix     string
	redisURL   string
	client     *container.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	cs, name := testenv.Azurite(t)
	return newEnvAt(t, cs, name)
}

func newEnvAt(t *testing.T, cs, name string) *env {
	t.Helper()
	c, err := container.NewClientFromConnectionString(cs, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{
		connString: cs, container: name, client: c,
		redisURL: e2e.RedisDB(t, redisDB), prefix: e2e.KeyPrefix(t, "azuree2e"),
	}
	t.Cleanup(func() {
		for _, n := range e.blobsUnder(t, e.prefix) {
			_, _ = c.NewBlobClient(n).Delete(context.Background(), nil)
		}
	})
	return e
}

func (e *env) storeURL() string {
	return fmt.Sprintf("azblob://%s/%s?min_part_size=1M&part_size=1M", e.container, e.prefix)
}

// start runs a gateway on this env's prefix and Redis database.
func (e *env) start(t *testing.T, extra ...string) *e2e.Proc {
	t.Helper()
	args := append([]string{"--store", e.storeURL(), "--state", e.redisURL}, extra...)
	return e2e.StartWith(t, e2e.Options{Env: []string{"AZURE_STORAGE_CONNECTION_STRING=" + e.connString}}, args...)
}

func (e *env) blobName(uploadURL string) string { return e.prefix + path.Base(uploadURL) }

func (e *env) blobsUnder(t *testing.T, prefix string) []string {
	t.Helper()
	var names []string
	p := e.client.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: &prefix})
	for p.More() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("list %s: %v", prefix, err)
		}
		for _, b := range page.Segment.BlobItems {
			names = append(names, *b.Name)
		}
	}
	return names
}

// checkContent compares an upload, fetched through the gateway and
// directly from the container, with the source bytes, and returns the
// blob's properties.
func (e *env) checkContent(t *testing.T, uploadURL string, data []byte) blob.GetPropertiesResponse {
	t.Helper()
	e2e.CheckDownload(t, uploadURL, data)
	ctx, cancel := context.WithTimeout(context.Background(), e2e.RequestDeadline)
	defer cancel()
	b := e.client.NewBlobClient(e.blobName(uploadURL))
	resp, err := b.DownloadStream(ctx, nil)
	if err != nil {
		t.Fatalf("download %s: %v", e.blobName(uploadURL), err)
	}
	defer resp.Body.Close()
	e2e.CheckReader(t, "blob "+e.blobName(uploadURL), resp.Body, data)
	props, err := b.GetProperties(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Only the blob itself is left: no tails.
	if names := e.blobsUnder(t, e.blobName(uploadURL)); len(names) != 1 {
		t.Fatalf("blobs left under %s: %v", e.blobName(uploadURL), names)
	}
	return props
}

func sourceData(size int, seed uint64) []byte { return testenv.Source(size, seed) }
