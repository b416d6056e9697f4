package testenv

import (
	"context"
	"fmt"
	"os"
	"strconv"
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
	v := Getenv(t, "TUSGATE_TEST_S3_ENDPOINT and TUSGATE_TEST_S3_BUCKET are not both set "+
		"(start MinIO with scripts/services/minio.sh)", "TUSGATE_TEST_S3_ENDPOINT", "TUSGATE_TEST_S3_BUCKET")
	return v[0], v[1]
}

// S3Credentials checks that the standard AWS credential variables are set
// (the gateway and S3Client read them), following S3Endpoint's skip/fail rule.
func S3Credentials(t testing.TB) {
	t.Helper()
	Getenv(t, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set (MinIO: minioadmin/minioadmin)",
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
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

// MinIOServer is a private MinIO owned by one test, on its own ports and
// data directory, so stopping it does not disturb other tests.
type MinIOServer struct {
	// Endpoint is its S3 URL (http://127.0.0.1:PORT); Bucket exists.
	Endpoint, Bucket string
	dir              string
	env              []string
}

// StartMinIO starts a private MinIO with scripts/services/minio.sh and stops
// it when the test ends. It follows S3Endpoint's skip/fail rule, since it
// needs the same installed server, and uses the same credentials.
func StartMinIO(t testing.TB) *MinIOServer {
	t.Helper()
	_, bucket := S3Endpoint(t)
	port, console := FreePort(t), FreePort(t)
	m := &MinIOServer{
		Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port),
		Bucket:   bucket,
		dir:      t.TempDir(),
		env: []string{
			"MINIO_PORT=" + strconv.Itoa(port),
			"MINIO_CONSOLE_PORT=" + strconv.Itoa(console),
			"MINIO_BUCKET=" + bucket,
			"MINIO_ROOT_USER=" + os.Getenv("AWS_ACCESS_KEY_ID"),
			"MINIO_ROOT_PASSWORD=" + os.Getenv("AWS_SECRET_ACCESS_KEY"),
		},
	}
	// Registered first so a server that started but failed its bucket
	// step is still stopped before TempDir is removed.
	t.Cleanup(func() { m.Stop(t) })
	m.Start(t)
	return m
}

// Start starts the server (again) on its port and data directory.
func (m *MinIOServer) Start(t testing.TB) { t.Helper(); m.run(t, "start") }

// Stop stops the server; its data stays.
func (m *MinIOServer) Stop(t testing.TB) { t.Helper(); m.run(t, "stop") }

func (m *MinIOServer) run(t testing.TB, cmd string) {
	t.Helper()
	RunService(t, "minio.sh", cmd, m.dir, m.env)
}
