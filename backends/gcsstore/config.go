package gcsstore

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/tusgate/tusgate/backends/multipart"
)

// Size units and the limits of Cloud Storage objects.
const (
	MiB = 1 << 20
	TiB = 1 << 40
	// MaxComponents is the most components a composite object may have:
	// every part is one, so it is the most parts of one upload.
	MaxComponents = 1024
	// MaxComposeSources is the most sources one compose call joins.
	MaxComposeSources = 32
	// MaxObjectSize is the largest object Cloud Storage holds.
	MaxObjectSize = 5 * TiB

	DefaultMinPartSize = 1 * MiB
	DefaultPartSize    = 8 * MiB
	DefaultConcurrency = 4
)

// Values of the checksum option.
const (
	// ChecksumCRC32C sends every part and tail with its CRC32C, made as
	// the bytes arrive, which the service verifies.
	ChecksumCRC32C = "crc32c"
	// ChecksumNone relies on TLS alone.
	ChecksumNone = "none"
)

// Config selects the bucket and tunes how uploads are cut into parts.
type Config struct {
	Bucket string
	// Prefix is prepended to every object name; a non-empty prefix ends in "/".
	Prefix string
	// Endpoint overrides the JSON API endpoint (e.g. a private service
	// connect address); STORAGE_EMULATOR_HOST is honoured by the SDK itself.
	Endpoint string
	// SignKeyFile is a service-account JSON key used to sign download URLs
	// where Application Default Credentials cannot sign (the emulator,
	// user credentials).
	SignKeyFile string

	MinPartSize   int64
	PartSize      int64
	EqualParts    bool
	Concurrency   int
	MaxObjectSize int64
	Checksum      string
	// PresignTTL enables PresignGet and is its default lifetime (0: off).
	PresignTTL time.Duration
	// MaxConnections caps the calls to the service in flight (0: derived).
	MaxConnections int
}

// ParseURL reads gs://bucket/prefix with the shared part options
// (min_part_size, part_size, equal_parts, concurrency, max_object_size,
// checksum=crc32c|none, presign, max_connections) and endpoint and
// sign_key_file. Credentials come from Application Default Credentials.
func ParseURL(u *url.URL) (Config, error) {
	var c Config
	if u.Scheme != "gs" {
		return c, fmt.Errorf("gcsstore: URL scheme %q, want gs", u.Scheme)
	}
	c.Bucket = u.Host
	c.Prefix = strings.TrimPrefix(u.Path, "/")
	shared := multipart.URLOptions{
		MinPartSize: &c.MinPartSize, PartSize: &c.PartSize, MaxObjectSize: &c.MaxObjectSize,
		EqualParts: &c.EqualParts, Concurrency: &c.Concurrency, MaxConnections: &c.MaxConnections,
		PresignTTL: &c.PresignTTL, Checksum: &c.Checksum,
	}
	if err := shared.ParseQuery(u.Query(), c.parseOwnOption); err != nil {
		return c, fmt.Errorf("gcsstore: %w", err)
	}
	return c.normalize()
}

func (c *Config) parseOwnOption(k, v string) error {
	switch k {
	case "endpoint":
		c.Endpoint = v
	case "sign_key_file":
		c.SignKeyFile = v
	default:
		return errors.New("unknown option")
	}
	return nil
}

// normalize fills defaults and rejects values Cloud Storage cannot work with.
func (c Config) normalize() (Config, error) {
	if c.Bucket == "" {
		return c, errors.New("gcsstore: no bucket given")
	}
	if c.Prefix != "" && !strings.HasSuffix(c.Prefix, "/") {
		c.Prefix += "/"
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
	case c.Checksum != ChecksumCRC32C && c.Checksum != ChecksumNone:
		return c, fmt.Errorf("gcsstore: checksum %q, want crc32c or none", c.Checksum)
	case c.MinPartSize < 1 || c.MinPartSize > MaxObjectSize:
		return c, fmt.Errorf("gcsstore: min_part_size %d outside 1..%d", c.MinPartSize, int64(MaxObjectSize))
	case c.PartSize < c.MinPartSize || c.PartSize > MaxObjectSize:
		return c, fmt.Errorf("gcsstore: part_size %d outside min_part_size..%d", c.PartSize, int64(MaxObjectSize))
	case c.Concurrency < 1 || c.Concurrency > 64:
		return c, fmt.Errorf("gcsstore: concurrency %d outside 1..64", c.Concurrency)
	case c.MaxObjectSize < 1 || c.MaxObjectSize > MaxObjectSize:
		return c, fmt.Errorf("gcsstore: max_object_size %d outside 1..%d", c.MaxObjectSize, int64(MaxObjectSize))
	case c.MaxConnections < 0 || c.MaxConnections > 4096:
		return c, fmt.Errorf("gcsstore: max_connections %d outside 1..4096 (0: derived)", c.MaxConnections)
	case c.PresignTTL < 0 || c.PresignTTL > 7*24*time.Hour:
		return c, fmt.Errorf("gcsstore: presign %v outside 0..168h", c.PresignTTL)
	}
	return c, nil
}

// engineConfig is what the part engine needs of c: every part is one
// component, so MaxComponents parts; any part may be as large as an
// object. maxObject is MaxObjectSize bounded by what the buffer budget
// lets the engine cut (parts are buffered whole). Handle keys are in the
// "gcs" namespace.
func (c Config) engineConfig(maxObject int64) multipart.Config {
	return multipart.Config{
		Namespace:     "gcs",
		Prefix:        c.Prefix,
		MinPartSize:   c.MinPartSize,
		MaxPartSize:   MaxObjectSize,
		MaxParts:      MaxComponents,
		MaxObjectSize: maxObject,
		PartSize:      c.PartSize,
		EqualParts:    c.EqualParts,
		Concurrency:   c.Concurrency,
	}
}
