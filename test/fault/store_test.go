package fault

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"testing"

	"cloud.google.com/go/storage"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"google.golang.org/api/iterator"

	"github.com/tusgate/tusgate/test/testenv"
)

// objectStore is the backend a case's replicas write to, seen from the
// test: the --store URL and environment the replicas get, and a direct
// look at what the store keeps under the case's prefix. Adding a store
// (GCS) is one more implementation and one more entry in stores.
type objectStore interface {
	// storeURL is the replicas' --store for prefix (it ends in "/").
	storeURL(prefix string) string
	// procEnv is what the replicas need in their environment.
	procEnv() []string
	// keys lists the objects under prefix, and apart what must never be
	// left once uploads end: unfinished multipart uploads.
	keys(ctx context.Context, prefix string) (objects, pending []string, err error)
	// removeAll deletes everything under prefix.
	removeAll(ctx context.Context, prefix string)
}

// storeKind names a store and opens it for a test; own asks for a private
// server that the test may stop (only S3 has one: MinIO).
type storeKind struct {
	name string
	open func(t *testing.T, own bool) (objectStore, *testenv.MinIOServer)
}

var (
	kindS3    = storeKind{"S3", openS3}
	kindAzure = storeKind{"Azure", openAzure}
	kindGCS   = storeKind{"GCS", openGCS}
)

// s3Store is MinIO, shared or private.
type s3Store struct {
	endpoint, bucket string
	c                *s3.Client
}

func openS3(t *testing.T, own bool) (objectStore, *testenv.MinIOServer) {
	endpoint, bucket := testenv.S3Endpoint(t)
	var m *testenv.MinIOServer
	if own {
		m = testenv.StartMinIO(t)
		endpoint, bucket = m.Endpoint, m.Bucket
	}
	return &s3Store{endpoint: endpoint, bucket: bucket, c: testenv.S3Client(t, endpoint)}, m
}

func (s *s3Store) storeURL(prefix string) string {
	q := url.Values{}
	q.Set("endpoint", s.endpoint)
	q.Set("path_style", "true")
	q.Set("min_part_size", "5MiB")
	q.Set("part_size", "5MiB")
	return fmt.Sprintf("s3://%s/%s?%s", s.bucket, prefix, q.Encode())
}

func (s *s3Store) procEnv() []string { return []string{"AWS_REGION=us-east-1"} }

func (s *s3Store) keys(ctx context.Context, prefix string) (objects, pending []string, err error) {
	p := s3.NewListObjectsV2Paginator(s.c, &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: &prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("list objects: %w", err)
		}
		for _, o := range page.Contents {
			objects = append(objects, aws.ToString(o.Key))
		}
	}
	mp, err := s.c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &s.bucket, Prefix: &prefix})
	if err != nil {
		return nil, nil, fmt.Errorf("list multipart uploads: %w", err)
	}
	for _, u := range mp.Uploads {
		pending = append(pending, "multipart:"+aws.ToString(u.Key))
	}
	return objects, pending, nil
}

func (s *s3Store) removeAll(ctx context.Context, prefix string) {
	p := s3.NewListObjectsV2Paginator(s.c, &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: &prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			break
		}
		for _, o := range page.Contents {
			_, _ = s.c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: o.Key})
		}
	}
	mp, err := s.c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &s.bucket, Prefix: &prefix})
	if err == nil {
		for _, u := range mp.Uploads {
			_, _ = s.c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &s.bucket, Key: u.Key, UploadId: u.UploadId})
		}
	}
}

// azureStore is the shared Azurite; there is no private one, so the
// MinIO-restart case has no Azure counterpart.
type azureStore struct {
	connString, container string
	c                     *container.Client
}

func openAzure(t *testing.T, own bool) (objectStore, *testenv.MinIOServer) {
	if own {
		t.Fatal("Azure: no private Azurite to restart")
	}
	cs, name := testenv.Azurite(t)
	c, err := container.NewClientFromConnectionString(cs, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &azureStore{connString: cs, container: name, c: c}, nil
}

func (s *azureStore) storeURL(prefix string) string {
	return fmt.Sprintf("azblob://%s/%s?min_part_size=5MiB&part_size=5MiB", s.container, prefix)
}

func (s *azureStore) procEnv() []string {
	return []string{"AZURE_STORAGE_CONNECTION_STRING=" + s.connString}
}

func (s *azureStore) keys(ctx context.Context, prefix string) (objects, pending []string, err error) {
	// Staged blocks never committed show as an (uncommitted) blob of the
	// upload's name; a finished upload's blob keeps none, since its commit
	// drops every block not in the list.
	p := s.c.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{
		Prefix: &prefix, Include: container.ListBlobsInclude{UncommittedBlobs: true}})
	for p.More() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("list blobs: %w", err)
		}
		for _, b := range page.Segment.BlobItems {
			objects = append(objects, *b.Name)
		}
	}
	return objects, nil, nil
}

func (s *azureStore) removeAll(ctx context.Context, prefix string) {
	objects, _, _ := s.keys(ctx, prefix)
	for _, k := range objects {
		_, _ = s.c.NewBlobClient(k).Delete(ctx, nil)
	}
}

// gcsStore is the shared fake-gcs-server; like Azurite there is no private
// one to restart.
type gcsStore struct {
	host, bucket string
	c            *storage.Client
}

func openGCS(t *testing.T, own bool) (objectStore, *testenv.MinIOServer) {
	if own {
		t.Fatal("GCS: no private emulator to restart")
	}
	host, bucket := testenv.GCS(t)
	c, err := storage.NewClient(context.Background()) // STORAGE_EMULATOR_HOST points it at the emulator
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &gcsStore{host: host, bucket: bucket, c: c}, nil
}

func (s *gcsStore) storeURL(prefix string) string {
	return fmt.Sprintf("gs://%s/%s?min_part_size=5MiB&part_size=5MiB", s.bucket, prefix)
}

func (s *gcsStore) procEnv() []string { return []string{"STORAGE_EMULATOR_HOST=" + s.host} }

// keys lists every object under prefix: finished objects, and part and
// tail objects, which an upload that ended must not leave (GCS has no
// pending multipart uploads; parts are objects).
func (s *gcsStore) keys(ctx context.Context, prefix string) (objects, pending []string, err error) {
	it := s.c.Bucket(s.bucket).Objects(ctx, &storage.Query{Prefix: prefix})
	for {
		a, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return objects, nil, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("list objects: %w", err)
		}
		objects = append(objects, a.Name)
	}
}

func (s *gcsStore) removeAll(ctx context.Context, prefix string) {
	objects, _, _ := s.keys(ctx, prefix)
	for _, k := range objects {
		_ = s.c.Bucket(s.bucket).Object(k).Delete(ctx)
	}
}
