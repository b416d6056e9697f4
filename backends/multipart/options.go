package multipart

import (
	"fmt"
	"net/url"
	"strconv"
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
