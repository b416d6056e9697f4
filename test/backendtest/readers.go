package backendtest

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"sync/atomic"
)

// randomBytes returns n bytes from a seeded generator, so a failure can be
// reproduced.
func randomBytes(seed uint64, n int64) []byte {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(key).Read(b) // never fails
	return b
}

// chunkSizes splits total into request bodies: about half tiny (up to 1 KiB),
// the rest up to 1.5*mp, so backends see many bodies below their minimum part
// (their tail path) as well as bodies that cross part boundaries. No body
// exceeds a third of the total, so there are always several.
func chunkSizes(rng *rand.Rand, total, mp int64) []int64 {
	var out []int64
	most := max(1, total/3)
	for left := total; left > 0; {
		var n int64
		if rng.IntN(2) == 0 {
			n = 1 + rng.Int64N(1024)
		} else {
			n = 1 + rng.Int64N(mp+mp/2)
		}
		n = min(n, most, left)
		out = append(out, n)
		left -= n
	}
	return out
}

// countingReader counts the bytes the backend has read; commits are checked
// against it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// errBodyBroken stands for a client connection that dropped mid-body.
var errBodyBroken = errors.New("backendtest: client connection reset")

// brokenBody yields data in reads of at most 32 KiB, then fails with
// errBodyBroken. With withLast, the error comes with the last bytes in the
// same Read (which io.Reader allows); otherwise on the following Read.
type brokenBody struct {
	data     []byte
	withLast bool
}

func (b *brokenBody) Read(p []byte) (int, error) {
	if len(b.data) == 0 {
		return 0, errBodyBroken
	}
	n := copy(p[:min(len(p), 32<<10)], b.data)
	b.data = b.data[n:]
	if len(b.data) == 0 && b.withLast {
		return n, errBodyBroken
	}
	return n, nil
}

// errOverRead is returned when a backend keeps reading long after its ctx
// was cancelled.
var errOverRead = errors.New("backendtest: body still being read long after ctx was cancelled")

// cancellingBody yields data in reads of at most 32 KiB, cancels the request
// context once cancelAt bytes were read, and refuses to give more than
// allowance further bytes.
type cancellingBody struct {
	data      []byte
	read      int64
	cancelAt  int64
	allowance int64
	cancel    context.CancelFunc
	overRead  atomic.Bool
}

func (c *cancellingBody) Read(p []byte) (int, error) {
	if c.read >= c.cancelAt+c.allowance {
		c.overRead.Store(true)
		return 0, errOverRead
	}
	if c.read >= int64(len(c.data)) {
		return 0, io.EOF
	}
	n := int64(min(len(p), 32<<10))
	if c.read < c.cancelAt {
		n = min(n, c.cancelAt-c.read)
	}
	n = int64(copy(p[:n], c.data[c.read:]))
	c.read += n
	if c.read == c.cancelAt {
		c.cancel()
	}
	return int(n), nil
}
