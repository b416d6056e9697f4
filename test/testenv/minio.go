package testenv

import (
	"context"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3Endpoint returns the S3-compatible endpoint (e.g. MinIO started by
// scripts/services/minio.sh) and the bucket tests may use, read from
// TUSGATE_TEST_S3_ENDPOINT and TUSGATE_TEST_S3_BUCKET. Credentials come from
// the standard AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY variables.
//
// When either is unset the test is skipped, or fails when
// TUSGATE_REQUIRE_SERVICES=1 so CI never skips silently.
func S3Endpoint(t testing.TB) (endpoint, bucket string) {
	t.Helper()
	endpoint = os.Getenv("TUSGATE_TEST_S3_ENDPOINT")
	bucket = os.Getenv("TUSGATE_TEST_S3_BUCKET")
	if endpoint != "" && bucket != "" {
		return endpoint, bucket
	}
	const msg = "TUSGATE_TEST_S3_ENDPOINT and TUSGATE_TEST_S3_BUCKET are not both set " +
		"(start MinIO with scripts/services/minio.sh)"
	if os.Getenv("TUSGATE_REQUIRE_SERVICES") == "1" {
		t.Fatal(msg + "; TUSGATE_REQUIRE_SERVICES=1 forbids skipping")
	}
	t.Skip(msg)
	return "", ""
}

// S3Client is a client for the S3-compatible endpoint (path-style, region
// us-east-1, credentials from the environment), to look at a bucket directly.
func S3Client(t testing.TB, endpoint string) *s3.Client {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("us-east-1"))
	if err != nil {
		t.Fatalf("AWS configuration: %v", err)
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.UsePathStyle = true
		// MinIO's GETs carry no checksum to validate; asking for one only
		// logs a warning per request.
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
}
