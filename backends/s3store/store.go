// Package s3store stores tus uploads in S3 or an S3-compatible store. Each
// upload is one multipart upload; request bodies are cut into fixed-size
// parts streamed to S3 while the body is still arriving, with buffers from
// the process-wide bufpool. The part manifest and the pointer to the durable
// sub-part tail live in the state store, so any replica resumes any upload.
package s3store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/backends/bufpool"
	"github.com/tusgate/tusgate/backends/multipart"
	"github.com/tusgate/tusgate/state"
)

// Store is the S3 backend: the part engine (backends/multipart) on an S3
// driver. It implements backends.Backend, Concater, RangeReader and
// Discarder, plus PresignGet.
type Store struct {
	*multipart.Engine
	d *driver
}

// driver is the S3 side of the engine: one multipart upload per upload,
// tails as small objects, UploadPartCopy for concatenation.
type driver struct {
	cfg     Config
	client  *s3.Client
	presign *s3.PresignClient
	log     *slog.Logger
	// unsignedOpts send a body as UNSIGNED-PAYLOAD (see payloadOf).
	unsignedOpts []func(*s3.Options)
	// gate holds the SDK calls in flight (see multipart.Do).
	gate *multipart.Gate
	// signPayload: buffers without a CRC32C hash what they receive for
	// the signer.
	signPayload bool
}

// Concater, RangeReader and Discarder come with the engine.
var (
	_ backends.Backend     = (*Store)(nil)
	_ multipart.Driver     = (*driver)(nil)
	_ multipart.PartCopier = (*driver)(nil)
)

// do runs one SDK call through the store's gate.
func do[T any](ctx context.Context, s *driver, call func(context.Context) (T, error)) (T, error) {
	return multipart.Do(ctx, s.gate, call)
}

// New connects to the bucket of cfg, with credentials from the SDK's default
// chain (AWS_* variables, shared profiles, web identity / IRSA, instance
// roles), and checks that the bucket exists. Part buffers come from pool,
// which is shared with every other upload of the process.
func New(ctx context.Context, cfg Config, pool *bufpool.Pool, logger *slog.Logger) (*Store, error) {
	cfg, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	st, err := multipart.NewSetup("s3store", cfg.StoreOptions, pool, logger, "backend", "s3", "bucket", cfg.Bucket)
	if err != nil {
		return nil, err
	}
	client, err := newClient(ctx, cfg, st.Conns)
	if err != nil {
		return nil, err
	}
	s := &driver{
		cfg:     cfg,
		client:  client,
		presign: s3.NewPresignClient(client),
		log:     st.Log,

		gate:         multipart.NewGate(st.Conns),
		signPayload:  signsPayload(cfg),
		unsignedOpts: []func(*s3.Options){unsignedPayload},
	}
	eng, err := st.Open(ctx, "s3store", cfg.engineConfig(), s, func(ctx context.Context) error {
		_, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &cfg.Bucket})
		if err == nil {
			return nil
		}
		err = classify("HeadBucket", err)
		if errors.Is(err, backends.ErrNotFound) {
			return fmt.Errorf("s3store: bucket %q does not exist at %s: %w", cfg.Bucket, s.where(), err)
		}
		return fmt.Errorf("s3store: cannot access bucket %q at %s: %w", cfg.Bucket, s.where(), err)
	})
	if err != nil {
		return nil, err
	}
	return &Store{Engine: eng, d: s}, nil
}

// newClient is the SDK client for cfg with at most conns connections.
func newClient(ctx context.Context, cfg Config, conns int) (*s3.Client, error) {
	// Many uploads send parts at once to one host; the default of 2 idle
	// connections per host would make most of them reconnect. The cap keeps
	// a burst of uploads starting at once from opening (and then keeping
	// idle) a connection each.
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxConnsPerHost = conns
		t.MaxIdleConns = conns
		t.MaxIdleConnsPerHost = conns
	})
	opts := []func(*config.LoadOptions) error{
		config.WithHTTPClient(httpClient),
		// Without the client-side retry quota a burst of failures does not
		// turn later requests into instant "quota exceeded" errors.
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) { o.RateLimiter = ratelimit.None })
		}),
	}
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("s3store: loading AWS configuration: %w", err)
	}
	if awsCfg.Region == "" {
		awsCfg.Region = "us-east-1"
	}
	return s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
		// Only compute checksums S3 insists on: the default CRC32 of every
		// part costs a pass over it on plain http and buys nothing over TLS
		// or a signed payload. Ranged GETs cannot be validated anyway.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	}), nil
}

func (s *driver) where() string {
	if s.cfg.Endpoint != "" {
		return s.cfg.Endpoint
	}
	return "AWS S3"
}

// Config returns the normalised configuration in use.
func (s *Store) Config() Config { return s.d.cfg }

// Begin starts the multipart upload, with Content-Type, Content-Disposition
// and user metadata from the tus metadata.
func (s *driver) Begin(ctx context.Context, u *state.Upload, key string) (uploadID, checksum string, err error) {
	a := attrsFor(u)
	in := &s3.CreateMultipartUploadInput{
		Bucket:      &s.cfg.Bucket,
		Key:         &key,
		ContentType: aws.String(a.ContentType),
		Metadata:    a.Metadata,
	}
	if a.ContentDisposition != "" {
		in.ContentDisposition = aws.String(a.ContentDisposition)
	}
	// A final concatenation receives no bytes from clients: its parts are
	// copied inside the store, which computes no checksum for them.
	if s.cfg.Checksum == ChecksumCRC32C && !u.Final() {
		checksum = ChecksumCRC32C
		in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32c
	}
	out, err := do(ctx, s, func(ctx context.Context) (*s3.CreateMultipartUploadOutput, error) {
		return s.client.CreateMultipartUpload(ctx, in)
	})
	if err != nil {
		return "", "", classify("CreateMultipartUpload", err)
	}
	return aws.ToString(out.UploadId), checksum, nil
}

// Sessions lists the pending multipart uploads of exactly key.
func (s *driver) Sessions(ctx context.Context, key string) ([]string, error) {
	var ids []string
	p := s3.NewListMultipartUploadsPaginator(s.client, &s3.ListMultipartUploadsInput{
		Bucket: &s.cfg.Bucket, Prefix: &key,
	})
	for p.HasMorePages() {
		page, err := do(ctx, s, func(ctx context.Context) (*s3.ListMultipartUploadsOutput, error) { return p.NextPage(ctx) })
		if err != nil {
			return nil, classify("ListMultipartUploads", err)
		}
		for _, mu := range page.Uploads {
			if aws.ToString(mu.Key) == key {
				ids = append(ids, aws.ToString(mu.UploadId))
			}
		}
	}
	return ids, nil
}

// Ping checks that the bucket is reachable.
func (s *Store) Ping(ctx context.Context) error {
	_, err := do(ctx, s.d, func(ctx context.Context) (*s3.HeadBucketOutput, error) {
		return s.d.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &s.d.cfg.Bucket})
	})
	return classify("HeadBucket", err)
}

// Close releases nothing: the SDK client holds no resources needing it.
func (s *Store) Close() error { return nil }

// StorageInfo says where u's object is, with the keys of tusd's s3store,
// for hook events.
func (s *Store) StorageInfo(u *state.Upload) map[string]string {
	return map[string]string{"Type": "s3store", "Bucket": s.d.cfg.Bucket, "Key": s.ObjectKey(u)}
}

// Capabilities adds presigned downloads (SigV4 needs nothing more) to the
// engine's.
func (s *Store) Capabilities() backends.Capabilities {
	c := s.Engine.Capabilities()
	c.PresignedDownload = true
	return c
}
