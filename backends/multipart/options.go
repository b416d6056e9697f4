package multipart

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tusgate/tusgate/config/size"
)

// MaxPresignTTL is the longest lifetime of a presigned download URL: SigV4,
// Azure SAS (as tusgate makes them) and GCS V4 signed URLs all stop at 7 days.
const MaxPresignTTL = 7 * 24 * time.Hour

// StoreOptions are the options every object-store URL takes
// (?part_size=8MiB&concurrency=4...), embedded in each store's Config so
// they are declared, parsed and checked once; each store parses only its
// own options itself.
type StoreOptions struct {
	// MinPartSize is the store's smallest part but the last (configurable
	// for S3 clones).
	MinPartSize int64
	// PartSize is the preferred part size; uploads too large for it with
	// the store's most parts get bigger parts.
	PartSize int64
	// EqualParts makes every part but the last the same size, also for
	// concatenation (Cloudflare R2 requires it).
	EqualParts bool
	// Concurrency is how many parts of one upload are sent at once.
	Concurrency int
	// MaxObjectSize is the largest upload accepted and what deferred-length
	// uploads plan their part size for.
	MaxObjectSize int64
	// Checksum names the digest parts and tails carry (store-specific values).
	Checksum string
	// PresignTTL enables presigned downloads and is their default lifetime
	// (0: off).
	PresignTTL time.Duration
	// MaxConnections caps the store calls in flight (0: derived from the
	// buffer budget, see Connections).
	MaxConnections int
}

// Parse sets option k from v. It reports false for an option that is not
// one of the shared ones, for the store to handle.
func (o *StoreOptions) Parse(k, v string) (bool, error) {
	var err error
	switch k {
	case "min_part_size":
		o.MinPartSize, err = size.Parse(v)
	case "part_size":
		o.PartSize, err = size.Parse(v)
	case "max_object_size":
		o.MaxObjectSize, err = size.Parse(v)
	case "equal_parts":
		o.EqualParts, err = strconv.ParseBool(v)
	case "concurrency":
		o.Concurrency, err = strconv.Atoi(v)
	case "max_connections":
		o.MaxConnections, err = strconv.Atoi(v)
	case "presign":
		o.PresignTTL, err = time.ParseDuration(v)
	case "checksum":
		o.Checksum = v
	default:
		return false, nil
	}
	return true, err
}

// ParseQuery reads every option of a store URL's query: the shared ones
// into o, the rest through own, which refuses what the store does not know.
// The last value of a repeated option wins.
func (o *StoreOptions) ParseQuery(q url.Values, own func(k, v string) error) error {
	for k, vs := range q {
		v := vs[len(vs)-1]
		ok, err := o.Parse(k, v)
		if !ok {
			err = own(k, v)
		}
		if err != nil {
			return fmt.Errorf("option %s=%q: %w", k, v, err)
		}
	}
	return nil
}

// ErrUnknownOption is what a store's own option parser returns for an
// option it does not take, so a typo does not fall back to a default.
var ErrUnknownOption = errors.New("unknown option")

// OptionRules are a store's URL scheme, defaults and bounds for the shared
// options.
type OptionRules struct {
	// Store names the store in errors ("gcsstore").
	Store string
	// Scheme is the store's URL scheme ("gs"), Holder what its URL's host
	// names ("bucket", "container").
	Scheme, Holder string
	// Defaults; a default part size below the minimum part size given is
	// raised to it.
	MinPartSize, PartSize int64
	Concurrency           int
	// Checksums are the accepted values of checksum, the first the default.
	Checksums []string
	// The store's bounds: the largest part and the largest object.
	MaxPartSize, MaxObjectSize int64
}

// ParseURL reads scheme://holder/prefix?options, the URL shape of every
// object store: the holder (bucket, container) and the key prefix, the
// shared options into o, the rest through own. The caller normalizes.
func (r OptionRules) ParseURL(u *url.URL, o *StoreOptions, own func(k, v string) error) (holder, prefix string, err error) {
	if u.Scheme != r.Scheme {
		return "", "", fmt.Errorf("%s: URL scheme %q, want %s", r.Store, u.Scheme, r.Scheme)
	}
	if err := o.ParseQuery(u.Query(), own); err != nil {
		return "", "", fmt.Errorf("%s: %w", r.Store, err)
	}
	return u.Host, strings.TrimPrefix(u.Path, "/"), nil
}

// Place checks that a holder (bucket, container) is named and returns
// prefix ending in "/" unless it is empty, so keys never run into it.
func (r OptionRules) Place(holder, prefix string) (string, error) {
	if holder == "" {
		return prefix, fmt.Errorf("%s: no %s given", r.Store, r.Holder)
	}
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return prefix, nil
}

// Normalize fills the options left unset (zero) with r's defaults and
// checks every shared option against r's bounds, so each store refuses
// the same mistakes with the same words.
func (o *StoreOptions) Normalize(r OptionRules) error {
	if o.MinPartSize == 0 {
		o.MinPartSize = r.MinPartSize
	}
	if o.PartSize == 0 {
		o.PartSize = max(r.PartSize, o.MinPartSize)
	}
	if o.Concurrency == 0 {
		o.Concurrency = r.Concurrency
	}
	if o.MaxObjectSize == 0 {
		o.MaxObjectSize = r.MaxObjectSize
	}
	if o.Checksum == "" && len(r.Checksums) > 0 {
		o.Checksum = r.Checksums[0]
	}
	switch {
	case !slices.Contains(r.Checksums, o.Checksum):
		return fmt.Errorf("%s: checksum %q, want one of %s", r.Store, o.Checksum, strings.Join(r.Checksums, ", "))
	case o.MinPartSize < 1 || o.MinPartSize > r.MaxPartSize:
		return fmt.Errorf("%s: min_part_size %d outside 1..%d", r.Store, o.MinPartSize, r.MaxPartSize)
	case o.PartSize < o.MinPartSize || o.PartSize > r.MaxPartSize:
		return fmt.Errorf("%s: part_size %d outside min_part_size..%d", r.Store, o.PartSize, r.MaxPartSize)
	case o.Concurrency < 1 || o.Concurrency > 64:
		return fmt.Errorf("%s: concurrency %d outside 1..64", r.Store, o.Concurrency)
	case o.MaxObjectSize < 1 || o.MaxObjectSize > r.MaxObjectSize:
		return fmt.Errorf("%s: max_object_size %d outside 1..%d", r.Store, o.MaxObjectSize, r.MaxObjectSize)
	case o.MaxConnections < 0 || o.MaxConnections > 4096:
		return fmt.Errorf("%s: max_connections %d outside 1..4096 (0: derived)", r.Store, o.MaxConnections)
	case o.PresignTTL < 0 || o.PresignTTL > MaxPresignTTL:
		return fmt.Errorf("%s: presign %v outside 0..168h", r.Store, o.PresignTTL)
	}
	return nil
}

// Connections is the most store calls in flight: max_connections, else
// derived from the buffer budget (see the function Connections).
func (o StoreOptions) Connections(budget int64) int {
	if o.MaxConnections > 0 {
		return o.MaxConnections
	}
	return Connections(o.MinPartSize, budget)
}

// PresignFor is the lifetime of a presigned URL asked for with ttl (<= 0:
// the presign option), at most MaxPresignTTL; 0 means presigning is off.
func (o StoreOptions) PresignFor(ttl time.Duration) time.Duration {
	if ttl <= 0 {
		ttl = o.PresignTTL
	}
	return min(max(ttl, 0), MaxPresignTTL)
}

// EngineConfig completes c (the store's namespace, prefix and limits) with
// the part options of o. A MaxObjectSize set in c (a store's tighter bound)
// is kept; else o's is used.
func (o StoreOptions) EngineConfig(c Config) Config {
	c.MinPartSize, c.PartSize, c.EqualParts, c.Concurrency = o.MinPartSize, o.PartSize, o.EqualParts, o.Concurrency
	if c.MaxObjectSize == 0 {
		c.MaxObjectSize = o.MaxObjectSize
	}
	return c
}
