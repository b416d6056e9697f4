package azuree2e

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"net/url"
	"path"
	"regexp"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/tusgate/tusgate/state"
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
	u, err := url.Parse(testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + redisDB
	e := &env{
		connString: cs, container: name, client: c, redisURL: u.String(),
		prefix: fmt.Sprintf("azuree2e/%s-%s/", safeName(t.Name()), strings.ToLower(rand.Text()[:8])),
	}
	t.Cleanup(func() {
		for _, n := range e.blobsUnder(t, e.prefix) {
			_, _ = c.NewBlobClient(n).Delete(context.Background(), nil)
		}
	})
	return e
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9-]+`)

func safeName(s string) string { return unsafeChars.ReplaceAllString(s, "_") }

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
	want := sha256.Sum256(data)
	sum, n := e2e.DownloadSHA256(t, uploadURL)
	if n != int64(len(data)) || sum != want {
		t.Fatalf("GET through the gateway: %d bytes with SHA-256 %x, want %d bytes with %x", n, sum, len(data), want)
	}
	ctx, cancel := context.WithTimeout(context.Background(), e2e.RequestDeadline)
	defer cancel()
	b := e.client.NewBlobClient(e.blobName(uploadURL))
	resp, err := b.DownloadStream(ctx, nil)
	if err != nil {
		t.Fatalf("download %s: %v", e.blobName(uploadURL), err)
	}
	defer resp.Body.Close()
	h := sha256.New()
	got, err := io.Copy(h, resp.Body)
	if err != nil || got != int64(len(data)) || [sha256.Size]byte(h.Sum(nil)) != want {
		t.Fatalf("blob %s: %d bytes with SHA-256 %x (%v), want %d bytes with %x", e.blobName(uploadURL), got, h.Sum(nil), err, len(data), want)
	}
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

func (e *env) stateReader(t *testing.T) state.Store { return e2e.StateReader(t, e.redisURL) }

func awaitCommitted(t *testing.T, st state.Store, uploadURL string, n int64) int64 {
	return e2e.AwaitCommitted(t, st, uploadURL, n, nil)
}

func sourceData(size int, seed uint64) []byte { return testenv.Source(size, seed) }

func on(p *e2e.Proc, uploadURL string) string { return p.URL + path.Base(uploadURL) }
