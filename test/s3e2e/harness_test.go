package s3e2e

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/tusgate/tusgate/state"
	"github.com/tusgate/tusgate/test/e2e"
	"github.com/tusgate/tusgate/test/testenv"
)

const (
	MiB = 1 << 20
	// partSize is the part size every gateway here is configured with (S3's
	// minimum), so the boundary cases sit at 5 MiB.
	partSize = 5 * MiB
	// redisDB keeps this package's state apart from other packages' tests.
	redisDB = "9"
)

// env is one test's view of the services: the bucket under a prefix of
// its own, Redis database 9, and an S3 client to check the bucket directly.
type env struct {
	endpoint string
	bucket   string
	prefix   string // ends in "/"
	redisURL string
	s3       *s3.Client
	// storeOptions are added to the --store URL of gateways started later.
	storeOptions url.Values
}

// newEnv uses the shared MinIO and Redis of the test environment.
func newEnv(t *testing.T) *env {
	t.Helper()
	endpoint, bucket := testenv.S3Endpoint(t)
	return newEnvAt(t, endpoint, bucket)
}

// newEnvAt uses the MinIO at endpoint (the shared one or a test's own).
// Whatever the test leaves under its prefix is removed when it ends.
func newEnvAt(t *testing.T, endpoint, bucket string) *env {
	t.Helper()
	testenv.S3Credentials(t)
	e := &env{
		endpoint: endpoint,
		bucket:   bucket,
		prefix:   e2e.KeyPrefix(t, "s3e2e"),
		redisURL: e2e.RedisDB(t, redisDB),
		s3:       newS3Client(t, endpoint),
	}
	t.Cleanup(func() { e.removeAll() })
	return e
}

func newS3Client(t *testing.T, endpoint string) *s3.Client { return testenv.S3Client(t, endpoint) }

// storeURL is the --store value for this env: parts of exactly 5 MiB.
func (e *env) storeURL() string {
	q := url.Values{}
	q.Set("endpoint", e.endpoint)
	q.Set("path_style", "true")
	q.Set("min_part_size", "5MiB")
	q.Set("part_size", "5MiB")
	for k, vs := range e.storeOptions {
		q[k] = vs
	}
	return fmt.Sprintf("s3://%s/%s?%s", e.bucket, e.prefix, q.Encode())
}

// start runs a gateway on this env's bucket prefix and Redis database,
// with extra flags appended.
func (e *env) start(t *testing.T, extra ...string) *e2e.Proc {
	t.Helper()
	args := append([]string{"--store", e.storeURL(), "--state", e.redisURL}, extra...)
	var childEnv []string
	if os.Getenv("AWS_REGION") == "" {
		childEnv = append(childEnv, "AWS_REGION=us-east-1")
	}
	return e2e.StartWith(t, e2e.Options{Env: childEnv}, args...)
}

// key is the object key of an upload URL's finished object.
func (e *env) key(uploadURL string) string { return e.prefix + path.Base(uploadURL) }

// objectSHA256 reads an object directly from the bucket.
func (e *env) objectSHA256(t *testing.T, key string) (sum [sha256.Size]byte, size int64, out *s3.GetObjectOutput) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), e2e.RequestDeadline)
	defer cancel()
	out, err := e.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: &e.bucket, Key: &key})
	if err != nil {
		t.Fatalf("GetObject %s: %v", key, err)
	}
	defer out.Body.Close()
	h := sha256.New()
	if size, err = io.Copy(h, out.Body); err != nil {
		t.Fatalf("GetObject %s: read body: %v", key, err)
	}
	copy(sum[:], h.Sum(nil))
	return sum, size, out
}

// keysUnder lists the objects whose key starts with prefix.
func (e *env) keysUnder(t *testing.T, prefix string) []string {
	t.Helper()
	keys, err := e.listKeys(prefix)
	if err != nil {
		t.Fatalf("ListObjectsV2 %s: %v", prefix, err)
	}
	return keys
}

// multipartUnder lists the pending multipart uploads (key/UploadId) whose
// key starts with prefix.
func (e *env) multipartUnder(t *testing.T, prefix string) []string {
	t.Helper()
	ups, err := e.listMultipart(prefix)
	if err != nil {
		t.Fatalf("ListMultipartUploads %s: %v", prefix, err)
	}
	var out []string
	for _, u := range ups {
		out = append(out, u[0]+"/"+u[1])
	}
	return out
}

func (e *env) listKeys(prefix string) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var keys []string
	p := s3.NewListObjectsV2Paginator(e.s3, &s3.ListObjectsV2Input{Bucket: &e.bucket, Prefix: &prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys, nil
}

// listMultipart returns [key, UploadId] pairs.
func (e *env) listMultipart(prefix string) ([][2]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out [][2]string
	p := s3.NewListMultipartUploadsPaginator(e.s3, &s3.ListMultipartUploadsInput{Bucket: &e.bucket, Prefix: &prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, u := range page.Uploads {
			out = append(out, [2]string{aws.ToString(u.Key), aws.ToString(u.UploadId)})
		}
	}
	return out, nil
}

// removeAll deletes what the test left under its prefix. It runs after
// the test's verdict, so failures only leave garbage behind.
func (e *env) removeAll() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	keys, _ := e.listKeys(e.prefix)
	for _, k := range keys {
		_, _ = e.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &e.bucket, Key: aws.String(k)})
	}
	ups, _ := e.listMultipart(e.prefix)
	for _, u := range ups {
		_, _ = e.s3.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
			Bucket: &e.bucket, Key: aws.String(u[0]), UploadId: aws.String(u[1])})
	}
}

// stateReader opens the gateways' Redis state directly, to watch committed
// offsets without a HEAD (a HEAD would ask a streaming PATCH to let go).
func (e *env) stateReader(t *testing.T) state.Store { return e2e.StateReader(t, e.redisURL) }

// awaitCommitted waits until the upload's committed offset reaches at
// least n and returns it.
func awaitCommitted(t *testing.T, st state.Store, uploadURL string, n int64, s *stream) int64 {
	t.Helper()
	var check func()
	if s != nil {
		check = func() { s.failIfEnded(t) }
	}
	return e2e.AwaitCommitted(t, st, uploadURL, n, check)
}

// sourceData returns size deterministic pseudo-random bytes for seed.
func sourceData(size int, seed uint64) []byte { return testenv.Source(size, seed) }

// checkContent compares an upload, fetched through the gateway and
// directly from the bucket, with the source bytes.
func (e *env) checkContent(t *testing.T, uploadURL string, data []byte) *s3.GetObjectOutput {
	t.Helper()
	e2e.CheckDownload(t, uploadURL, data)
	want := sha256.Sum256(data)
	sum, n, out := e.objectSHA256(t, e.key(uploadURL))
	if n != int64(len(data)) || sum != want {
		t.Fatalf("object %s in the bucket: %d bytes with SHA-256 %x, want %d bytes with %x", e.key(uploadURL), n, sum, len(data), want)
	}
	return out
}

func sha(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}
