package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"path/filepath"
	"strings"

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
	var sum [sha256.Size]byte
	r, err := g.bucket.Object(key).NewReader(ctx)
	if err != nil {
		return sum, fmt.Errorf("get %s: %w", key, err)
	}
	defer r.Close()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return sum, fmt.Errorf("read %s: %w", key, err)
	}
	copy(sum[:], h.Sum(nil))
	return sum, nil
}

func (g *gcsBucket) clear(ctx context.Context, prefix string) error {
	objs, err := g.sizes(ctx, prefix)
	if err != nil {
		return err
	}
	for k := range objs {
		if err := g.bucket.Object(k).Delete(ctx); err != nil && !errors.Is(err, storage.ErrObjectNotExist) {
			return fmt.Errorf("delete %s: %w", k, err)
		}
	}
	return nil
}

// gcsSDKMethod uploads directly with the SDK's storage.Writer (a resumable
// upload) with the benchmark's part size as its chunk size.
type gcsSDKMethod struct {
	g        *gcsBucket
	partSize int64
	prefix   string
}

func (m *gcsSDKMethod) name() string { return "sdk" }

func (m *gcsSDKMethod) begin(_ context.Context, r run) error { m.prefix = r.prefix; return nil }

func (m *gcsSDKMethod) upload(ctx context.Context, i int, seed uint64, size int64) (string, error) {
	key := fmt.Sprintf("%s%05d", m.prefix, i)
	w := m.g.bucket.Object(key).NewWriter(ctx)
	w.ChunkSize = int(m.partSize)
	if _, err := io.Copy(w, newSource(seed, size)); err != nil {
		_ = w.Close()
		return key, err
	}
	return key, w.Close()
}

func (m *gcsSDKMethod) end() (*serverStats, error) { return nil, nil }

// newTusgateGCSMethod runs tusgate on the bucket.
func newTusgateGCSMethod(label, bin string, g *gcsBucket, s serverSettings, client *tusClient) *serverMethod {
	return &serverMethod{
		label:  label,
		client: client,
		command: func(r run, addr string) (string, []string, []string, string) {
			q := url.Values{}
			q.Set("part_size", fmt.Sprint(s.partSize))
			for k, vs := range s.storeQuery {
				q[k] = vs
			}
			store := fmt.Sprintf("gs://%s/%s?%s", g.name, r.prefix, q.Encode())
			args := []string{"--listen", addr, "--store", store, "--state", s.redisURL}
			return bin, append(args, s.extraArgs...), s.env, "http://" + addr + "/files/"
		},
		keyOf: func(r run, u string) string { return r.prefix + path.Base(u) },
	}
}

// newTusdGCSMethod runs tusd's gcsstore on the bucket. It stores each
// PATCH as an object and composes them when the upload completes; it has
// no part size, so the client's PATCH size decides its pieces.
func newTusdGCSMethod(bin string, g *gcsBucket, s serverSettings, client *tusClient) *serverMethod {
	return &serverMethod{
		label:  "tusd",
		client: client,
		command: func(r run, addr string) (string, []string, []string, string) {
			host, port, _ := strings.Cut(addr, ":")
			args := []string{"-host", host, "-port", port, "-base-path", "/files/",
				"-upload-dir", filepath.Join(r.dir, "unused"),
				"-gcs-bucket", g.name, "-gcs-object-prefix", r.prefix}
			return bin, append(args, s.extraArgs...), nil, "http://" + addr + "/files/"
		},
		keyOf: func(r run, u string) string { return r.prefix + path.Base(u) },
	}
}
