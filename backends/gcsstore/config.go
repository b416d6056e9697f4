package gcsstore

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

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

	// The options every store takes; Checksum is ChecksumCRC32C or
	// ChecksumNone.
	multipart.StoreOptions
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
	if err := c.URLOptions().ParseQuery(u.Query(), c.parseOwnOption); err != nil {
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
	err := c.URLOptions().Normalize(multipart.OptionRules{
		Store: "gcsstore", MinPartSize: DefaultMinPartSize, PartSize: DefaultPartSize, Concurrency: DefaultConcurrency,
		Checksums: []string{ChecksumCRC32C, ChecksumNone}, MaxPartSize: MaxObjectSize, MaxObjectSize: MaxObjectSize,
	})
	return c, err
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
