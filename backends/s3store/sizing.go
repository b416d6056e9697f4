package s3store

import (
	"fmt"

	"github.com/tusgate/tusgate/backends"
)

// PartSizeFor returns the part size for an upload of length bytes (-1:
// deferred). It is fixed for the life of the upload so part numbers can be
// derived from offsets. The size is the largest of the minimum, the preferred
// size and what keeps the upload (or, deferred, MaxObjectSize) within
// MaxParts parts, the latter rounded up to a whole MiB.
func (c Config) PartSizeFor(length int64) (int64, error) {
	planned := length
	if length < 0 {
		planned = c.MaxObjectSize
	}
	if planned > c.MaxObjectSize {
		return 0, fmt.Errorf("%w: %d bytes, limit %d", backends.ErrTooLarge, length, c.MaxObjectSize)
	}
	size := max(c.MinPartSize, c.PartSize)
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

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }
