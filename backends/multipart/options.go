package multipart

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tusgate/tusgate/config/size"
)

// URLOptions points at the fields of a store's configuration that every
// object-store URL takes (?part_size=8MiB&concurrency=4...), so each store
// reads them the same way and only parses its own options itself.
type URLOptions struct {
	MinPartSize, PartSize, MaxObjectSize *int64
	EqualParts                           *bool
	Concurrency, MaxConnections          *int
	PresignTTL                           *time.Duration
	Checksum                             *string
}

// Parse sets option k from v. It reports false for an option that is not
// one of the shared ones, for the store to handle.
func (o URLOptions) Parse(k, v string) (bool, error) {
	var err error
	switch k {
	case "min_part_size":
		*o.MinPartSize, err = size.Parse(v)
	case "part_size":
		*o.PartSize, err = size.Parse(v)
	case "max_object_size":
		*o.MaxObjectSize, err = size.Parse(v)
	case "equal_parts":
		*o.EqualParts, err = strconv.ParseBool(v)
	case "concurrency":
		*o.Concurrency, err = strconv.Atoi(v)
	case "max_connections":
		*o.MaxConnections, err = strconv.Atoi(v)
	case "presign":
		*o.PresignTTL, err = time.ParseDuration(v)
	case "checksum":
		*o.Checksum = v
	default:
		return false, nil
	}
	return true, err
}

// ParseQuery reads every option of a store URL's query: the shared ones
// into o, the rest through own, which refuses what the store does not know.
// The last value of a repeated option wins.
func (o URLOptions) ParseQuery(q url.Values, own func(k, v string) error) error {
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

// OptionRules are a store's defaults and bounds for the shared options.
type OptionRules struct {
	// Store names the store in errors ("gcsstore").
	Store string
	// Defaults; a default part size below the minimum part size given is
	// raised to it.
	MinPartSize, PartSize int64
	Concurrency           int
	// Checksums are the accepted values of checksum, the first the default.
	Checksums []string
	// The store's bounds: the largest part and the largest object.
	MaxPartSize, MaxObjectSize int64
}

// Normalize fills the options left unset (zero) with r's defaults and
// checks every shared option against r's bounds, so each store refuses
// the same mistakes with the same words.
func (o URLOptions) Normalize(r OptionRules) error {
	if *o.MinPartSize == 0 {
		*o.MinPartSize = r.MinPartSize
	}
	if *o.PartSize == 0 {
		*o.PartSize = max(r.PartSize, *o.MinPartSize)
	}
	if *o.Concurrency == 0 {
		*o.Concurrency = r.Concurrency
	}
	if *o.MaxObjectSize == 0 {
		*o.MaxObjectSize = r.MaxObjectSize
	}
	if *o.Checksum == "" && len(r.Checksums) > 0 {
		*o.Checksum = r.Checksums[0]
	}
	switch {
	case !slices.Contains(r.Checksums, *o.Checksum):
		return fmt.Errorf("%s: checksum %q, want one of %s", r.Store, *o.Checksum, strings.Join(r.Checksums, ", "))
	case *o.MinPartSize < 1 || *o.MinPartSize > r.MaxPartSize:
		return fmt.Errorf("%s: min_part_size %d outside 1..%d", r.Store, *o.MinPartSize, r.MaxPartSize)
	case *o.PartSize < *o.MinPartSize || *o.PartSize > r.MaxPartSize:
		return fmt.Errorf("%s: part_size %d outside min_part_size..%d", r.Store, *o.PartSize, r.MaxPartSize)
	case *o.Concurrency < 1 || *o.Concurrency > 64:
		return fmt.Errorf("%s: concurrency %d outside 1..64", r.Store, *o.Concurrency)
	case *o.MaxObjectSize < 1 || *o.MaxObjectSize > r.MaxObjectSize:
		return fmt.Errorf("%s: max_object_size %d outside 1..%d", r.Store, *o.MaxObjectSize, r.MaxObjectSize)
	case *o.MaxConnections < 0 || *o.MaxConnections > 4096:
		return fmt.Errorf("%s: max_connections %d outside 1..4096 (0: derived)", r.Store, *o.MaxConnections)
	case *o.PresignTTL < 0 || *o.PresignTTL > 7*24*time.Hour:
		return fmt.Errorf("%s: presign %v outside 0..168h", r.Store, *o.PresignTTL)
	}
	return nil
}

// StoreOptions are the options every object-store URL takes, embedded in
// each store's Config so they are declared, parsed and checked once.
type StoreOptions struct {
	MinPartSize   int64
	PartSize      int64
	EqualParts    bool
	Concurrency   int
	MaxObjectSize int64
	// Checksum names the digest parts and tails carry (store-specific values).
	Checksum string
	// PresignTTL enables presigned downloads and is their default lifetime
	// (0: off).
	PresignTTL time.Duration
	// MaxConnections caps the store calls in flight (0: derived).
	MaxConnections int
}

// URLOptions points at o's fields.
func (o *StoreOptions) URLOptions() URLOptions {
	return URLOptions{
		MinPartSize: &o.MinPartSize, PartSize: &o.PartSize, MaxObjectSize: &o.MaxObjectSize,
		EqualParts: &o.EqualParts, Concurrency: &o.Concurrency, MaxConnections: &o.MaxConnections,
		PresignTTL: &o.PresignTTL, Checksum: &o.Checksum,
	}
}
