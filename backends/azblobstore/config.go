package azblobstore

import (
	"net/url"
	"time"

	"github.com/tusgate/tusgate/backends/multipart"
)

// Size units and the limits of Azure block blobs.
const (
	MiB = 1 << 20

	// MaxBlocks is the most committed blocks of one blob.
	MaxBlocks = 50000
	// MaxBlockSize is the largest block (service version 2019-12-12 on).
	MaxBlockSize = 4000 * MiB
	// MaxObjectSize is the largest block blob: MaxBlocks of MaxBlockSize.
	MaxObjectSize = MaxBlocks * MaxBlockSize
	// UncommittedLifetime is how long Azure keeps staged blocks that were
	// never committed: an upload must finish within it.
	UncommittedLifetime = 7 * 24 * time.Hour

	DefaultMinPartSize = 1 * MiB
	DefaultPartSize    = 8 * MiB
	DefaultConcurrency = 3
)

// Values of the checksum option.
const (
	// ChecksumMD5 sends every block and tail with its MD5, which the
	// service verifies; the digest is made as the bytes arrive.
	ChecksumMD5 = "md5"
	// ChecksumNone relies on TLS (or a trusted network) alone.
	ChecksumNone = "none"
)

// Config selects the container and tunes how uploads are cut into blocks.
type Config struct {
	Container string
	// Prefix is prepended to every blob name; a non-empty prefix ends in "/".
	Prefix string
	// Endpoint is the service URL of the account, e.g.
	// http://127.0.0.1:10000/devstoreaccount1 for Azurite or a sovereign
	// cloud's; "" derives https://<account>.blob.core.windows.net/.
	Endpoint string
	// Account names the storage account (else AZURE_STORAGE_ACCOUNT).
	Account string
	// ConnectionString, AccountKey: credentials; without either the default
	// Azure credential chain is used (managed / workload identity, CLI).
	// Both usually come from AZURE_STORAGE_CONNECTION_STRING / _KEY.
	ConnectionString string
	AccountKey       string

	// The options every store takes; Checksum is ChecksumMD5 or
	// ChecksumNone; PresignTTL needs an account key (SAS URLs).
	multipart.StoreOptions
}

// ParseURL reads azblob://container/prefix with the options endpoint,
// account, min_part_size, part_size, equal_parts, concurrency,
// max_object_size, checksum (md5|none), presign and max_connections.
// Credentials never come from the URL (it is logged): they come from
// AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_ACCOUNT +
// AZURE_STORAGE_KEY, or the default credential chain.
func ParseURL(u *url.URL) (Config, error) {
	var c Config
	var err error
	if c.Container, c.Prefix, err = optionRules().ParseURL(u, &c.StoreOptions, c.parseOwnOption); err != nil {
		return c, err
	}
	return c.normalize()
}

// optionRules are Azure's defaults and bounds of the shared options.
func optionRules() multipart.OptionRules {
	return multipart.OptionRules{
		Store: "azblobstore", Scheme: "azblob", Holder: "container",
		MinPartSize: DefaultMinPartSize, PartSize: DefaultPartSize, Concurrency: DefaultConcurrency,
		Checksums: []string{ChecksumNone, ChecksumMD5}, MaxPartSize: MaxBlockSize, MaxObjectSize: MaxObjectSize,
	}
}

// normalize fills defaults and rejects values Azure cannot work with.
func (c Config) normalize() (Config, error) {
	rules := optionRules()
	var err error
	if c.Prefix, err = rules.Place(c.Container, c.Prefix); err != nil {
		return c, err
	}
	return c, c.StoreOptions.Normalize(rules)
}

// parseOwnOption reads the URL options only this store takes.
func (c *Config) parseOwnOption(k, v string) error {
	switch k {
	case "endpoint":
		c.Endpoint = v
	case "account":
		c.Account = v
	default:
		return multipart.ErrUnknownOption
	}
	return nil
}
