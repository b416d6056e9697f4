package multipart

import (
	"errors"
	"fmt"
	"sort"

	"github.com/tusgate/tusgate/backends"
)

const mib = 1 << 20

// Config is what the engine needs to know about a store and an operator's
// choices: the store's part limits, and how uploads are cut within them.
type Config struct {
	// Namespace prefixes the handle keys ("s3" gives "s3.key", ...), so the
	// records of a store keep their keys when the engine changes.
	Namespace string
	// Prefix is prepended to every object name (upload ID, tails).
	Prefix string

	// The store's limits: the smallest part but the last (configurable on
	// S3 clones), the largest part and the most parts of one object.
	MinPartSize int64
	MaxPartSize int64
	MaxParts    int
	// MaxObjectSize is the largest upload accepted and what deferred-length
	// uploads plan for.
	MaxObjectSize int64

	// PartSize is the preferred part size; uploads too large for it with
	// MaxParts parts get bigger parts.
	PartSize int64
	// EqualParts makes every part but the last the same size, also for
	// concatenation.
	EqualParts bool
	// Concurrency is how many parts of one upload are sent at once.
	Concurrency int
	// CopyRangeMin is the smallest source the store copies a byte range of;
	// smaller sources are copied whole or read.
	CopyRangeMin int64
	// DeferredTier overrides the parts per tier of the doubling layout of
	// deferred-length uploads (0: computed), so tests reach tier boundaries
	// with a few MiB.
	DeferredTier int
}

// Check rejects configurations the engine cannot cut parts with.
func (c Config) Check() error {
	switch {
	case c.Namespace == "":
		return errors.New("multipart: no handle namespace")
	case c.MaxParts < 1 || c.MaxPartSize < 1:
		return fmt.Errorf("multipart: store limits %d parts of %d bytes", c.MaxParts, c.MaxPartSize)
	case c.MinPartSize < 1 || c.MinPartSize > c.MaxPartSize:
		return fmt.Errorf("multipart: min part size %d outside 1..%d", c.MinPartSize, c.MaxPartSize)
	case c.PartSize < c.MinPartSize || c.PartSize > c.MaxPartSize:
		return fmt.Errorf("multipart: part size %d outside %d..%d", c.PartSize, c.MinPartSize, c.MaxPartSize)
	case c.Concurrency < 1 || c.Concurrency > 64:
		return fmt.Errorf("multipart: concurrency %d outside 1..64", c.Concurrency)
	case c.MaxObjectSize < 1:
		return fmt.Errorf("multipart: max object size %d", c.MaxObjectSize)
	}
	return nil
}

// PartSizeFor returns the fixed part size for an upload of length bytes (-1:
// deferred, planned for MaxObjectSize). It is fixed for the life of the
// upload so part numbers can be derived from offsets. The size is the
// largest of the minimum, the preferred size and what keeps the upload
// within MaxParts parts, the latter rounded up to a whole MiB. A deferred
// upload gets this size only with EqualParts (or when preferred-size parts
// reach MaxObjectSize); otherwise its parts grow with the offset.
func (c Config) PartSizeFor(length int64) (int64, error) {
	planned := length
	if length < 0 {
		planned = c.MaxObjectSize
	}
	if planned > c.MaxObjectSize {
		return 0, fmt.Errorf("%w: %d bytes, limit %d", backends.ErrTooLarge, length, c.MaxObjectSize)
	}
	size := c.BasePartSize()
	if need := ceilDiv(planned, int64(c.MaxParts)); need > size {
		size = ceilDiv(need, mib) * mib
	}
	if size > c.MaxPartSize {
		// Unreachable when MaxObjectSize fits MaxParts parts; kept so a bad
		// Config cannot produce parts the store refuses.
		return 0, fmt.Errorf("%w: part size %d above %d", backends.ErrTooLarge, size, c.MaxPartSize)
	}
	return size, nil
}

// BasePartSize is the size of an upload's first parts.
func (c Config) BasePartSize() int64 { return max(c.MinPartSize, c.PartSize) }

// LayoutFor chooses the layout of a new upload of length bytes (-1:
// deferred). Known lengths get the fixed PartSizeFor. A deferred length
// gets parts of the preferred size that double every tier, so an upload of
// a few GiB never needs a part larger than the preferred size while
// MaxParts parts still reach MaxObjectSize; with EqualParts, or when
// preferred-size parts reach MaxObjectSize anyway, it stays fixed.
func (c Config) LayoutFor(length int64) (Layout, error) {
	base := c.BasePartSize()
	if length >= 0 || c.EqualParts || base*int64(c.MaxParts) >= c.MaxObjectSize {
		ps, err := c.PartSizeFor(length)
		return c.FixedLayout(ps), err
	}
	tier := c.DeferredTier
	if tier <= 0 {
		tier = c.longestTier(base, c.MaxObjectSize)
	}
	return c.DoublingLayout(base, tier), nil
}

// longestTier returns the most parts per tier with which a doubling layout
// from base still holds planned bytes in MaxParts parts: the longer the
// tiers, the further an upload gets before its parts grow. Capacity only
// shrinks as tiers lengthen, so a binary search finds it.
func (c Config) longestTier(base, planned int64) int {
	n := sort.Search(c.MaxParts, func(i int) bool {
		return c.DoublingLayout(base, i+1).Capacity() < planned
	})
	return max(n, 1)
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }
