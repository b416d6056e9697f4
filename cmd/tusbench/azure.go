package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

// objectStore is what the runner checks and clears after a run: the MinIO
// bucket or the Azure container.
type objectStore interface {
	sizes(ctx context.Context, prefix string) (map[string]int64, error)
	objectSHA256(ctx context.Context, key string) ([sha256.Size]byte, error)
	clear(ctx context.Context, prefix string) error
}

// azContainer is the benchmark's view of the Azure (Azurite) container.
type azContainer struct {
	name       string
	connString string
	client     *container.Client
}

func newAzContainer(ctx context.Context, connString, name string) (*azContainer, error) {
	c, err := container.NewClientFromConnectionString(connString, name, nil)
	if err != nil {
		return nil, fmt.Errorf("container %s: %w", name, err)
	}
	if _, err := c.GetProperties(ctx, nil); err != nil {
		if _, err := c.Create(ctx, nil); err != nil {
			return nil, fmt.Errorf("container %s: %w", name, err)
		}
	}
	return &azContainer{name: name, connString: connString, client: c}, nil
}

func (a *azContainer) sizes(ctx context.Context, prefix string) (map[string]int64, error) {
	out := map[string]int64{}
	p := a.client.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: &prefix})
	for p.More() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", prefix, err)
		}
		for _, b := range page.Segment.BlobItems {
			if b.Name != nil && b.Properties != nil && b.Properties.ContentLength != nil {
				out[*b.Name] = *b.Properties.ContentLength
			}
		}
	}
	return out, nil
}

func (a *azContainer) objectSHA256(ctx context.Context, key string) ([sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	resp, err := a.client.NewBlobClient(key).DownloadStream(ctx, nil)
	if err != nil {
		return sum, fmt.Errorf("get %s: %w", key, err)
	}
	defer resp.Body.Close()
	h := sha256.New()
	if _, err := io.Copy(h, resp.Body); err != nil {
		return sum, fmt.Errorf("read %s: %w", key, err)
	}
	copy(sum[:], h.Sum(nil))
	return sum, nil
}

func (a *azContainer) clear(ctx context.Context, prefix string) error {
	blobs, err := a.sizes(ctx, prefix)
	if err != nil {
		return err
	}
	for k := range blobs {
		if _, err := a.client.NewBlobClient(k).Delete(ctx, nil); err != nil {
			return fmt.Errorf("delete %s: %w", k, err)
		}
	}
	return nil
}

// azureSDKMethod uploads directly with the SDK's block-blob uploader
// (UploadStream) with the benchmark's block size and tusgate's default of
// 3 blocks in flight (the SDK's default is one).
type azureSDKMethod struct {
	c        *azContainer
	partSize int64
	prefix   string
}

func (m *azureSDKMethod) name() string { return "sdk" }

func (m *azureSDKMethod) begin(_ context.Context, r run) error { m.prefix = r.prefix; return nil }

func (m *azureSDKMethod) upload(ctx context.Context, i int, seed uint64, size int64) (string, error) {
	key := fmt.Sprintf("%s%05d", m.prefix, i)
	_, err := m.c.client.NewBlockBlobClient(key).UploadStream(ctx, newSource(seed, size),
		&blockblob.UploadStreamOptions{BlockSize: m.partSize, Concurrency: 3})
	return key, err
}

func (m *azureSDKMethod) end() (*serverStats, error) { return nil, nil }

// newTusgateAzureMethod runs tusgate on the container.
func newTusgateAzureMethod(label, bin string, c *azContainer, s serverSettings, client *tusClient) *serverMethod {
	return &serverMethod{
		label:  label,
		client: client,
		command: func(r run, addr string) (string, []string, []string, string) {
			q := s.storeQuery.Encode()
			store := fmt.Sprintf("azblob://%s/%s?part_size=%d", c.name, r.prefix, s.partSize)
			if q != "" {
				store += "&" + q
			}
			args := []string{"--listen", addr, "--store", store, "--state", s.redisURL}
			env := append([]string{"AZURE_STORAGE_CONNECTION_STRING=" + c.connString}, s.env...)
			return bin, append(args, s.extraArgs...), env, "http://" + addr + "/files/"
		},
		keyOf: func(r run, u string) string { return r.prefix + path.Base(u) },
	}
}

// newTusdAzureMethod runs tusd v2's azurestore on the container. tusd takes
// the account from AZURE_STORAGE_ACCOUNT/AZURE_STORAGE_KEY and the endpoint
// (Azurite's, with the account path) from -azure-endpoint; it stages each
// PATCH body as one block and keeps a .info blob beside the data.
func newTusdAzureMethod(bin string, c *azContainer, s serverSettings, client *tusClient) *serverMethod {
	kv := map[string]string{}
	for _, f := range strings.Split(c.connString, ";") {
		if k, v, ok := strings.Cut(f, "="); ok {
			kv[k] = v
		}
	}
	return &serverMethod{
		label:  "tusd",
		client: client,
		command: func(r run, addr string) (string, []string, []string, string) {
			host, port, _ := strings.Cut(addr, ":")
			args := []string{
				"-host", host, "-port", port, "-base-path", "/files/",
				"-upload-dir", filepath.Join(r.dir, "unused"),
				"-azure-storage", c.name,
				"-azure-endpoint", strings.TrimSuffix(kv["BlobEndpoint"], "/"),
				"-azure-object-prefix", strings.TrimSuffix(r.prefix, "/"),
			}
			env := []string{"AZURE_STORAGE_ACCOUNT=" + kv["AccountName"], "AZURE_STORAGE_KEY=" + kv["AccountKey"]}
			return bin, append(args, s.extraArgs...), env, "http://" + addr + "/files/"
		},
		keyOf: func(r run, u string) string { return r.prefix + path.Base(u) },
	}
}
