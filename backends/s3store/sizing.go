package s3store

import (
	"fmt"
	"sort"

	"github.com/tusgate/tusgate/backends"
)

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
	size := c.basePartSize()
	if need := ceilDiv(planned, MaxParts); need > size {
		size = ceilDiv(need, MiB) * MiB
	}
	if size > MaxPartSize {
		// Unreachable with MaxObjectSize <= 5 TiB; kept so a bad Config
		// cannot produce parts S3 refuses.
		return 0, fmt.Errorf("%w: part size %d above %d", backends.ErrTooLarge, size, int64(MaxPartSize))
	}
	return size, nil
}

// basePartSize is the size of an upload's first parts.
func (c Config) basePartSize() int64 { return max(c.MinPartSize, c.PartSize) }

// layoutFor chooses the layout of a new upload of length bytes (-1:
// deferred). Known lengths get the fixed PartSizeFor. A deferred length
// gets parts of the preferred size that double every tier, so an upload
// of a few GiB never needs a part larger than the preferred size while
// MaxParts parts still reach MaxObjectSize; with EqualParts, or when
// preferred-size parts reach MaxObjectSize anyway, it stays fixed.
func (c Config) layoutFor(length int64) (layout, error) {
	base := c.basePartSize()
	if length >= 0 || c.EqualParts || base*MaxParts >= c.MaxObjectSize {
		ps, err := c.PartSizeFor(length)
		return fixedLayout(ps), err
	}
	tier := c.deferredTier
	if tier <= 0 {
		tier = longestTier(base, c.MaxObjectSize)
	}
	return layout{base: base, tier: tier}, nil
}

// longestTier returns the most parts per tier with which a doubling layout
// from base still holds planned bytes in MaxParts parts: the longer the
// tiers, the further an upload gets before its parts grow. Capacity only
// shrinks as tiers lengthen, so a binary search finds it.
func longestTier(base, planned int64) int {
	n := sort.Search(MaxParts, func(i int) bool {
		return layout{base: base, tier: i + 1}.capacity() < planned
	})
	return max(n, 1)
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

// connections is the most connections to the store (max_connections, else
// derived): one for every part the buffer budget can hold at once (parts
// are at least MinPartSize), which keeps part uploads from ever waiting for
// one, plus 16 for the small requests (create, complete, tails, deletes).
// Each connection costs two goroutines and two buffers for as long as it
// stays open; with a connection per upload, 256 uploads starting at once
// left some 130 of them open, about 10 MiB (docs/benchmarks.md).
func connections(cfg Config, budget int64) int {
	if cfg.MaxConnections > 0 {
		return cfg.MaxConnections
	}
	return int(min(budget/cfg.MinPartSize, 1024)) + 16
}
