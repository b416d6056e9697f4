package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

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
	resp, err := a.client.NewBlobClient(key).DownloadStream(ctx, nil)
	if err != nil {
		return [sha256.Size]byte{}, fmt.Errorf("get %s: %w", key, err)
	}
	defer resp.Body.Close()
	return sha256Of(key, resp.Body)
}

func (a *azContainer) clear(ctx context.Context, prefix string) error {
	return deleteListed(ctx, a, prefix, func(ctx context.Context, k string) error {
		_, err := a.client.NewBlobClient(k).Delete(ctx, nil)
		return err
	})
}

// azureSDKMethod uploads directly with the SDK's block-blob uploader
// (UploadStream) with the benchmark's block size and tusgate's default of
// 3 blocks in flight (the SDK's default is one).
type azureSDKMethod struct {
	sdkRun
	c        *azContainer
	partSize int64
}

func (m *azureSDKMethod) upload(ctx context.Context, i int, seed uint64, size int64) (string, error) {
	key := m.key(i)
	_, err := m.c.client.NewBlockBlobClient(key).UploadStream(ctx, newSource(seed, size),
		&blockblob.UploadStreamOptions{BlockSize: m.partSize, Concurrency: 3})
	return key, err
}

// newTusgateAzureMethod runs tusgate on the container.
func newTusgateAzureMethod(label, bin string, c *azContainer, s serverSettings, client *tusClient) *serverMethod {
	env := append([]string{"AZURE_STORAGE_CONNECTION_STRING=" + c.connString}, s.env...)
	return newTusgateOn(label, bin, s, client, env, func(r run, q url.Values) string {
		return fmt.Sprintf("azblob://%s/%s?%s", c.name, r.prefix, q.Encode())
	})
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
	env := []string{"AZURE_STORAGE_ACCOUNT=" + kv["AccountName"], "AZURE_STORAGE_KEY=" + kv["AccountKey"]}
	return newTusdOn("tusd", bin, s, client, env, func(r run) []string {
		return []string{
			"-azure-storage", c.name,
			"-azure-endpoint", strings.TrimSuffix(kv["BlobEndpoint"], "/"),
			"-azure-object-prefix", strings.TrimSuffix(r.prefix, "/"),
		}
	}, baseKey)
}
