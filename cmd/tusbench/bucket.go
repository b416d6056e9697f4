package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// bucket is the benchmark's view of the MinIO bucket all methods write to.
type bucket struct {
	name   string
	client *s3.Client
}

// newBucket builds an SDK client with default settings except what a
// local MinIO needs (endpoint, path-style addressing) and enough idle
// connections for hundreds of concurrent uploads.
func newBucket(ctx context.Context, endpoint, region, name string) (*bucket, error) {
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns = 1024
		t.MaxIdleConnsPerHost = 1024
	})
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region), config.WithHTTPClient(hc))
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.UsePathStyle = true
		// Reading objects back is verified with SHA-256; the default
		// validation cannot check multipart objects and only logs so.
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	if _, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &name}); err != nil {
		return nil, fmt.Errorf("bucket %s at %s: %w", name, endpoint, err)
	}
	return &bucket{name: name, client: client}, nil
}

// sizes lists the objects under prefix with their sizes.
func (b *bucket) sizes(ctx context.Context, prefix string) (map[string]int64, error) {
	out := map[string]int64{}
	p := s3.NewListObjectsV2Paginator(b.client, &s3.ListObjectsV2Input{Bucket: &b.name, Prefix: &prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", prefix, err)
		}
		for _, o := range page.Contents {
			out[aws.ToString(o.Key)] = aws.ToInt64(o.Size)
		}
	}
	return out, nil
}

// objectSHA256 reads an object back and hashes it.
func (b *bucket) objectSHA256(ctx context.Context, key string) ([sha256.Size]byte, error) {
	out, err := b.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &b.name, Key: &key})
	if err != nil {
		return [sha256.Size]byte{}, fmt.Errorf("get %s: %w", key, err)
	}
	defer out.Body.Close()
	return sha256Of(key, out.Body)
}

// clear removes every object and pending multipart upload under prefix, so
// runs do not fill MinIO's disk.
func (b *bucket) clear(ctx context.Context, prefix string) error {
	err := deleteListed(ctx, b, prefix, func(ctx context.Context, k string) error {
		_, err := b.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b.name, Key: aws.String(k)})
		return err
	})
	if err != nil {
		return err
	}
	p := s3.NewListMultipartUploadsPaginator(b.client, &s3.ListMultipartUploadsInput{Bucket: &b.name, Prefix: &prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list multipart uploads %s: %w", prefix, err)
		}
		for _, u := range page.Uploads {
			_, err := b.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
				Bucket: &b.name, Key: u.Key, UploadId: u.UploadId})
			if err != nil {
				return fmt.Errorf("abort %s: %w", aws.ToString(u.Key), err)
			}
		}
	}
	return nil
}
