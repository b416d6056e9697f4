package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/url"

	"cloud.google.com/go/storage"
	"google.golang.org/api/iterator"
)

// gcsBucket is the benchmark's view of the Cloud Storage bucket (the
// emulator that STORAGE_EMULATOR_HOST names, or a real one with ADC).
type gcsBucket struct {
	name   string
	bucket *storage.BucketHandle
}

func newGCSBucket(ctx context.Context, name string) (*gcsBucket, error) {
	c, err := storage.NewClient(ctx)
	if err != nil {
		return nil, fmt.Errorf("GCS client: %w", err)
	}
	b := c.Bucket(name)
	if _, err := b.Attrs(ctx); err != nil {
		return nil, fmt.Errorf("bucket %s: %w", name, err)
	}
	return &gcsBucket{name: name, bucket: b}, nil
}

func (g *gcsBucket) sizes(ctx context.Context, prefix string) (map[string]int64, error) {
	out := map[string]int64{}
	it := g.bucket.Objects(ctx, &storage.Query{Prefix: prefix})
	for {
		a, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", prefix, err)
		}
		out[a.Name] = a.Size
	}
}

func (g *gcsBucket) objectSHA256(ctx context.Context, key string) ([sha256.Size]byte, error) {
	r, err := g.bucket.Object(key).NewReader(ctx)
	if err != nil {
		return [sha256.Size]byte{}, fmt.Errorf("get %s: %w", key, err)
	}
	defer r.Close()
	return sha256Of(key, r)
}

func (g *gcsBucket) clear(ctx context.Context, prefix string) error {
	return deleteListed(ctx, g, prefix, func(ctx context.Context, k string) error {
		if err := g.bucket.Object(k).Delete(ctx); !errors.Is(err, storage.ErrObjectNotExist) {
			return err
		}
		return nil
	})
}

// gcsSDKMethod uploads directly with the SDK's storage.Writer (a resumable
// upload) with the benchmark's part size as its chunk size.
type gcsSDKMethod struct {
	sdkRun
	g        *gcsBucket
	partSize int64
}

func (m *gcsSDKMethod) upload(ctx context.Context, i int, seed uint64, size int64) (string, error) {
	key := m.key(i)
	w := m.g.bucket.Object(key).NewWriter(ctx)
	w.ChunkSize = int(m.partSize)
	if _, err := io.Copy(w, newSource(seed, size)); err != nil {
		_ = w.Close()
		return key, err
	}
	return key, w.Close()
}

// newTusgateGCSMethod runs tusgate on the bucket.
func newTusgateGCSMethod(label, bin string, g *gcsBucket, s serverSettings, client *tusClient) *serverMethod {
	return newTusgateOn(label, bin, s, client, s.env, func(r run, q url.Values) string {
		return fmt.Sprintf("gs://%s/%s?%s", g.name, r.prefix, q.Encode())
	})
}

// newTusdGCSMethod runs tusd's gcsstore on the bucket. It stores each
// PATCH as an object and composes them when the upload completes; it has
// no part size, so the client's PATCH size decides its pieces.
func newTusdGCSMethod(bin string, g *gcsBucket, s serverSettings, client *tusClient) *serverMethod {
	return newTusdOn("tusd", bin, s, client, nil, func(r run) []string {
		return []string{"-gcs-bucket", g.name, "-gcs-object-prefix", r.prefix}
	}, baseKey)
}
