package azblobstore

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
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
	if u.Scheme != "azblob" {
		return c, fmt.Errorf("azblobstore: URL scheme %q, want azblob", u.Scheme)
	}
	c.Container = u.Host
	c.Prefix = strings.TrimPrefix(u.Path, "/")
	if err := c.URLOptions().ParseQuery(u.Query(), c.parseOwnOption); err != nil {
		return c, fmt.Errorf("azblobstore: %w", err)
	}
	return c.normalize()
}

// normalize fills defaults and rejects values Azure cannot work with.
func (c Config) normalize() (Config, error) {
	if c.Container == "" {
		return c, fmt.Errorf("azblobstore: no container given")
	}
	if c.Prefix != "" && !strings.HasSuffix(c.Prefix, "/") {
		c.Prefix += "/"
	}
	err := c.URLOptions().Normalize(multipart.OptionRules{
		Store: "azblobstore", MinPartSize: DefaultMinPartSize, PartSize: DefaultPartSize, Concurrency: DefaultConcurrency,
		Checksums: []string{ChecksumNone, ChecksumMD5}, MaxPartSize: MaxBlockSize, MaxObjectSize: MaxObjectSize,
	})
	return c, err
}

// parseOwnOption reads the URL options only this store takes.
func (c *Config) parseOwnOption(k, v string) error {
	switch k {
	case "endpoint":
		c.Endpoint = v
	case "account":
		c.Account = v
	default:
		return errors.New("unknown option")
	}
	return nil
}
