package s3store

import (
	"net/url"
	"strconv"
	"strings"

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

	// The options every store takes. MinPartSize is S3's smallest
	// non-last part (5 MiB, lower on some clones); MaxObjectSize defaults
	// to and is at most 5 TiB; Checksum is ChecksumCRC32C (default),
	// ChecksumSHA256 or ChecksumNone (see payload.go); MaxConnections caps
	// the connections to the store.
	multipart.StoreOptions

	// deferredTier overrides the parts per tier of the doubling layout of
	// deferred-length uploads (0: computed), so tests reach tier
	// boundaries with a few MiB.
	deferredTier int
}

// optionRules are S3's defaults and bounds of the shared options.
func optionRules() multipart.OptionRules {
	return multipart.OptionRules{
		Store: "s3store", Scheme: "s3", Holder: "bucket",
		MinPartSize: DefaultMinPartSize, PartSize: DefaultPartSize, Concurrency: DefaultConcurrency,
		Checksums:   []string{ChecksumCRC32C, ChecksumSHA256, ChecksumNone},
		MaxPartSize: MaxPartSize, MaxObjectSize: MaxObjectSize,
	}
}

// ParseURL reads s3://bucket/prefix?endpoint=...&region=...&path_style=true
// with the options min_part_size, part_size, equal_parts, concurrency,
// presign (a duration), max_object_size, checksum and
// max_connections. Sizes are
// bytes or carry a unit (5MiB, 64MB, 1GiB, ...). Unknown options are errors,
// so a typo does not silently fall back to a default.
func ParseURL(u *url.URL) (Config, error) {
	var c Config
	var err error
	if c.Bucket, c.Prefix, err = optionRules().ParseURL(u, &c.StoreOptions, c.parseOwnOption); err != nil {
		return c, err
	}
	return c.normalize()
}

// normalize fills defaults and rejects values S3 cannot work with.
func (c Config) normalize() (Config, error) {
	rules := optionRules()
	var err error
	if c.Prefix, err = rules.Place(c.Bucket, c.Prefix); err != nil {
		return c, err
	}
	if c.Endpoint != "" && !strings.Contains(c.Endpoint, "://") {
		c.Endpoint = "https://" + c.Endpoint
	}
	return c, c.StoreOptions.Normalize(rules)
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
		return multipart.ErrUnknownOption
	}
	return err
}
