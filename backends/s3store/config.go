package s3store

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tusgate/tusgate/backends/multipart"
	"github.com/tusgate/tusgate/config/size"
)

// Size units and the limits of S3 multipart uploads.
const (
	KiB = 1 << 10
	MiB = 1 << 20
	GiB = 1 << 30
	TiB = 1 << 40

	// MaxParts is the most parts one multipart upload may have.
	MaxParts = 10000
	// MaxPartSize is the largest part S3 accepts.
	MaxPartSize = 5 * GiB
	// MaxObjectSize is the largest object S3 stores.
	MaxObjectSize = 5 * TiB

	DefaultMinPartSize = 5 * MiB
	DefaultPartSize    = 8 * MiB
	DefaultConcurrency = 3
)

// Config selects the bucket and tunes how uploads are cut into parts.
type Config struct {
	Bucket string
	// Prefix is prepended to every key; a non-empty prefix ends in "/".
	Prefix string
	// Endpoint is the base URL of an S3-compatible store ("" for AWS).
	Endpoint string
	// Region; "" uses the SDK chain (AWS_REGION, profile), else us-east-1.
	Region string
	// PathStyle addresses buckets as endpoint/bucket (MinIO and most clones).
	PathStyle bool
	// MinPartSize is the store's smallest non-last part (S3: 5 MiB).
	MinPartSize int64
	// PartSize is the preferred part size; uploads too large for it with
	// MaxParts parts get bigger parts.
	PartSize int64
	// EqualParts makes every part but the last the same size, also for
	// concatenation (Cloudflare R2 requires it).
	EqualParts bool
	// Concurrency is how many parts of one upload are sent at once.
	Concurrency int
	// PresignTTL enables PresignGet and is its default lifetime (0: off).
	PresignTTL time.Duration
	// MaxObjectSize is the largest upload accepted and what deferred-length
	// uploads plan their part size for (default and maximum 5 TiB).
	MaxObjectSize int64
	// Checksum protects part and tail bytes on the wire: ChecksumCRC32C
	// (default), ChecksumSHA256 or ChecksumNone (see payload.go).
	Checksum string
	// MaxConnections caps the connections to the store (0: derived from
	// the buffer budget, see connections).
	MaxConnections int

	// deferredTier overrides the parts per tier of the doubling layout of
	// deferred-length uploads (0: computed), so tests reach tier
	// boundaries with a few MiB.
	deferredTier int
}

// ParseURL reads s3://bucket/prefix?endpoint=...&region=...&path_style=true
// with the options min_part_size, part_size, equal_parts, concurrency,
// presign (a duration), max_object_size, checksum and
// max_connections. Sizes are
// bytes or carry a unit (5MiB, 64MB, 1GiB, ...). Unknown options are errors,
// so a typo does not silently fall back to a default.
func ParseURL(u *url.URL) (Config, error) {
	var c Config
	if u.Scheme != "s3" {
		return c, fmt.Errorf("s3store: URL scheme %q, want s3", u.Scheme)
	}
	c.Bucket = u.Host
	c.Prefix = strings.TrimPrefix(u.Path, "/")
	shared := multipart.URLOptions{
		MinPartSize: &c.MinPartSize, PartSize: &c.PartSize, MaxObjectSize: &c.MaxObjectSize,
		EqualParts: &c.EqualParts, Concurrency: &c.Concurrency, MaxConnections: &c.MaxConnections,
		PresignTTL: &c.PresignTTL, Checksum: &c.Checksum,
	}
	if err := shared.ParseQuery(u.Query(), c.parseOwnOption); err != nil {
		return c, fmt.Errorf("s3store: %w", err)
	}
	return c.normalize()
}

// normalize fills defaults and rejects values S3 cannot work with.
func (c Config) normalize() (Config, error) {
	if c.Bucket == "" {
		return c, fmt.Errorf("s3store: no bucket given")
	}
	if c.Prefix != "" && !strings.HasSuffix(c.Prefix, "/") {
		c.Prefix += "/"
	}
	if c.Endpoint != "" && !strings.Contains(c.Endpoint, "://") {
		c.Endpoint = "https://" + c.Endpoint
	}
	if c.MinPartSize == 0 {
		c.MinPartSize = DefaultMinPartSize
	}
	if c.PartSize == 0 {
		c.PartSize = max(DefaultPartSize, c.MinPartSize)
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.MaxObjectSize == 0 {
		c.MaxObjectSize = MaxObjectSize
	}
	if c.Checksum == "" {
		c.Checksum = ChecksumCRC32C
	}
	switch {
	case c.Checksum != ChecksumCRC32C && c.Checksum != ChecksumSHA256 && c.Checksum != ChecksumNone:
		return c, fmt.Errorf("s3store: checksum %q, want crc32c, sha256 or none", c.Checksum)
	case c.MinPartSize < 1 || c.MinPartSize > MaxPartSize:
		return c, fmt.Errorf("s3store: min_part_size %d outside 1..%d", c.MinPartSize, int64(MaxPartSize))
	case c.PartSize < c.MinPartSize || c.PartSize > MaxPartSize:
		return c, fmt.Errorf("s3store: part_size %d outside min_part_size..%d", c.PartSize, int64(MaxPartSize))
	case c.Concurrency < 1 || c.Concurrency > 64:
		return c, fmt.Errorf("s3store: concurrency %d outside 1..64", c.Concurrency)
	case c.MaxObjectSize < 1 || c.MaxObjectSize > MaxObjectSize:
		return c, fmt.Errorf("s3store: max_object_size %d outside 1..%d", c.MaxObjectSize, int64(MaxObjectSize))
	case c.MaxConnections < 0 || c.MaxConnections > 4096:
		return c, fmt.Errorf("s3store: max_connections %d outside 1..4096 (0: derived)", c.MaxConnections)
	case c.PresignTTL < 0 || c.PresignTTL > 7*24*time.Hour:
		// SigV4 presigned URLs live at most 7 days.
		return c, fmt.Errorf("s3store: presign %v outside 0..168h", c.PresignTTL)
	}
	return c, nil
}

// parseSize reads the one size syntax of flags and URLs (config/size).
func parseSize(s string) (int64, error) { return size.Parse(s) }

// parseOwnOption reads the URL options only this store takes.
func (c *Config) parseOwnOption(k, v string) error {
	var err error
	switch k {
	case "endpoint":
		c.Endpoint = v
	case "region":
		c.Region = v
	case "path_style":
		c.PathStyle, err = strconv.ParseBool(v)
	default:
		return errors.New("unknown option")
	}
	return err
}
