package gcsstore

import (
	"net/url"

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
	var err error
	if c.Bucket, c.Prefix, err = optionRules().ParseURL(u, &c.StoreOptions, c.parseOwnOption); err != nil {
		return c, err
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
		return multipart.ErrUnknownOption
	}
	return nil
}

// optionRules are Cloud Storage's defaults and bounds of the shared options.
func optionRules() multipart.OptionRules {
	return multipart.OptionRules{
		Store: "gcsstore", Scheme: "gs", Holder: "bucket",
		MinPartSize: DefaultMinPartSize, PartSize: DefaultPartSize, Concurrency: DefaultConcurrency,
		Checksums: []string{ChecksumCRC32C, ChecksumNone}, MaxPartSize: MaxObjectSize, MaxObjectSize: MaxObjectSize,
	}
}

// normalize fills defaults and rejects values Cloud Storage cannot work with.
func (c Config) normalize() (Config, error) {
	rules := optionRules()
	var err error
	if c.Prefix, err = rules.Place(c.Bucket, c.Prefix); err != nil {
		return c, err
	}
	return c, c.StoreOptions.Normalize(rules)
}

// engineConfig is what the part engine needs of c: every part is one
// component, so MaxComponents parts; any part may be as large as an
// object. maxObject is MaxObjectSize bounded by what the buffer budget
// lets the engine cut (parts are buffered whole). Handle keys are in the
// "gcs" namespace.
func (c Config) engineConfig(maxObject int64) multipart.Config {
	return c.EngineConfig(multipart.Config{
		Namespace:     "gcs",
		Prefix:        c.Prefix,
		MaxPartSize:   MaxObjectSize,
		MaxParts:      MaxComponents,
		MaxObjectSize: maxObject,
	})
}
