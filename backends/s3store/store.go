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
	"github.com/tusgate/tusgate/state"
)

// Store is the S3 backend. It implements backends.Backend, Concater,
// RangeReader and Discarder, plus PresignGet.
type Store struct {
	cfg     Config
	client  *s3.Client
	presign *s3.PresignClient
	pool    *bufpool.Pool
	log     *slog.Logger
	// unsignedOpts send a body as UNSIGNED-PAYLOAD (see payloadOf).
	unsignedOpts []func(*s3.Options)
	// slots hold the SDK calls in flight (see do).
	slots chan struct{}
	// signPayload: buffers without a CRC32C hash what they receive for
	// the signer.
	signPayload bool
}

var (
	_ backends.Backend     = (*Store)(nil)
	_ backends.Concater    = (*Store)(nil)
	_ backends.RangeReader = (*Store)(nil)
	_ backends.Discarder   = (*Store)(nil)
)

// New connects to the bucket of cfg, with credentials from the SDK's default
// chain (AWS_* variables, shared profiles, web identity / IRSA, instance
// roles), and checks that the bucket exists. Part buffers come from pool,
// which is shared with every other upload of the process.
func New(ctx context.Context, cfg Config, pool *bufpool.Pool, logger *slog.Logger) (*Store, error) {
	cfg, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	if pool == nil {
		return nil, errors.New("s3store: a buffer pool is required")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("backend", "s3", "bucket", cfg.Bucket)

	// Many uploads send parts at once to one host; the default of 2 idle
	// connections per host would make most of them reconnect. The cap keeps
	// a burst of uploads starting at once from opening (and then keeping
	// idle) a connection each.
	conns := connections(cfg, pool.Budget())
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
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
		// Only compute checksums S3 insists on: the default CRC32 of every
		// part costs a pass over it on plain http and buys nothing over TLS
		// or a signed payload. Ranged GETs cannot be validated anyway.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	s := &Store{
		cfg:     cfg,
		client:  client,
		presign: s3.NewPresignClient(client),
		pool:    pool,
		log:     logger,

		slots:        make(chan struct{}, conns),
		signPayload:  signsPayload(cfg),
		unsignedOpts: []func(*s3.Options){unsignedPayload},
	}
	if _, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &cfg.Bucket}); err != nil {
		err = classify("HeadBucket", err)
		if errors.Is(err, backends.ErrNotFound) {
			return nil, fmt.Errorf("s3store: bucket %q does not exist at %s: %w", cfg.Bucket, s.where(), err)
		}
		return nil, fmt.Errorf("s3store: cannot access bucket %q at %s: %w", cfg.Bucket, s.where(), err)
	}
	s.logDeferredLimit()
	return s, nil
}

// logDeferredLimit tells operators at start-up how far the buffer budget
// lets deferred-length uploads go, and warns when it refuses them outright.
func (s *Store) logDeferredLimit() {
	budget, limit := s.pool.Budget(), s.MaxDeferredSize()
	switch {
	case limit == 0 && s.cfg.EqualParts:
		ps, _ := s.cfg.PartSizeFor(-1)
		s.log.Warn("with equal_parts, deferred-length uploads need a part buffer larger than the buffer budget; "+
			"they will be refused unless max_object_size is lowered or the budget raised",
			"part_size", ps, "budget", budget)
	case limit == 0:
		s.log.Warn("the part size is larger than the buffer budget; uploads will be refused",
			"part_size", s.cfg.basePartSize(), "budget", budget)
	case limit < s.cfg.MaxObjectSize:
		s.log.Info("deferred-length uploads are limited by the buffer budget: their parts grow with the offset",
			"max_deferred_size", limit, "budget", budget, "max_object_size", s.cfg.MaxObjectSize)
	}
}

// MaxDeferredSize is how many bytes a deferred-length upload can take before
// the next part of its layout no longer fits the buffer budget (Write then
// fails with backends.ErrTooLarge), at most MaxObjectSize. Zero means
// deferred-length uploads are refused at creation. An upload that declares
// its length in time may end with a shorter last part beyond it.
func (s *Store) MaxDeferredSize() int64 {
	l, err := s.cfg.layoutFor(-1)
	if err != nil {
		return 0
	}
	return min(l.reach(s.pool.Budget()), s.cfg.MaxObjectSize)
}

func (s *Store) where() string {
	if s.cfg.Endpoint != "" {
		return s.cfg.Endpoint
	}
	return "AWS S3"
}

// Config returns the normalised configuration in use.
func (s *Store) Config() Config { return s.cfg }

// Create starts the multipart upload, with Content-Type, Content-Disposition
// and user metadata from the tus metadata, and fixes the part layout.
func (s *Store) Create(ctx context.Context, u *state.Upload) (map[string]string, error) {
	l, err := s.cfg.layoutFor(u.Length)
	if err != nil {
		return nil, err
	}
	if ps := l.part(1).size; ps > s.pool.Budget() {
		return nil, fmt.Errorf("%w: a part of %d bytes does not fit the buffer budget of %d bytes",
			backends.ErrTooLarge, ps, s.pool.Budget())
	}
	key := s.cfg.Prefix + u.ID
	a := attrsFor(u.Metadata)
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
	checksum := ""
	if s.cfg.Checksum == ChecksumCRC32C && !u.Final() {
		checksum = ChecksumCRC32C
		in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32c
	}
	out, err := do(ctx, s, func(ctx context.Context) (*s3.CreateMultipartUploadOutput, error) {
		return s.client.CreateMultipartUpload(ctx, in)
	})
	if err != nil {
		return nil, classify("CreateMultipartUpload", err)
	}
	hv := newHandle(key, aws.ToString(out.UploadId), l)
	if checksum != "" {
		hv[HandleChecksum] = checksum
	}
	return hv, nil
}

// Delete aborts the multipart upload and removes tails and the object.
// Tails are also found by listing the upload's own tail prefix, so a tail
// whose deletion failed earlier does not stay behind.
func (s *Store) Delete(ctx context.Context, u *state.Upload) error {
	h := handleOf(s.cfg, u)
	ids := []string{h.uploadID}
	if h.uploadID == "" {
		// The record was written before the multipart upload's ID could be
		// (creation crashed in between): find it under the object's key.
		var err error
		if ids, err = s.multipartUploadsOf(ctx, h.key); err != nil {
			return err
		}
	}
	for _, id := range ids {
		h.uploadID = id
		if err := s.abort(ctx, h); err != nil {
			return err
		}
	}
	keys := []string{h.key}
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket: &s.cfg.Bucket, Prefix: aws.String(h.key + tailInfix),
	})
	for p.HasMorePages() {
		page, err := do(ctx, s, func(ctx context.Context) (*s3.ListObjectsV2Output, error) { return p.NextPage(ctx) })
		if err != nil {
			return classify("ListObjectsV2", err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	for _, k := range append(keys, h.tailKey, h.staleTail) {
		if err := s.deleteObject(ctx, k); err != nil {
			return err
		}
	}
	return nil
}

// multipartUploadsOf lists the pending multipart uploads of exactly key.
func (s *Store) multipartUploadsOf(ctx context.Context, key string) ([]string, error) {
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
	_, err := do(ctx, s, func(ctx context.Context) (*s3.HeadBucketOutput, error) {
		return s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &s.cfg.Bucket})
	})
	return classify("HeadBucket", err)
}

// Close releases nothing: the SDK client holds no resources needing it.
func (s *Store) Close() error { return nil }
