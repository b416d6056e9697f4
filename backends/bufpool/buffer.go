package bufpool

import (
	"errors"
	"hash"
	"io"
)

// ErrFull is returned by Write when the bytes do not fit in the buffer.
var ErrFull = errors.New("bufpool: buffer is full")

// errReleased guards against use after Release, which would hand out slabs
// another buffer now owns.
var errReleased = errors.New("bufpool: buffer used after Release")

// errNotEmpty refuses a hash that would miss the bytes already written.
var errNotEmpty = errors.New("bufpool: HashWith on a buffer that holds bytes")

// Buffer is a reserved, append-only byte buffer made of pool slabs. It is
// owned by one goroutine at a time; readers made by Reader may run while no
// one writes.
type Buffer struct {
	p        *Pool
	size     int64 // capacity asked for
	n        int64 // bytes written
	slabs    [][]byte
	reserved int64 // slabs reserved from the budget
	released bool
	hash     hash.Hash // fed every byte written, when set
}

// HashWith makes the buffer feed every byte written to it into h right
// after it lands, while it is still in the CPU cache: a digest of the
// contents (the SigV4 payload hash) then costs no second pass over memory.
// The buffer must be empty; Reset resets h too.
func (b *Buffer) HashWith(h hash.Hash) error {
	if b.n > 0 {
		return errNotEmpty
	}
	b.hash = h
	return nil
}

// Hash is the hash given to HashWith (nil if none); it has seen exactly
// the bytes written so far.
func (b *Buffer) Hash() hash.Hash { return b.hash }

// Len is the number of bytes written.
func (b *Buffer) Len() int64 { return b.n }

// Cap is the size the buffer was reserved for.
func (b *Buffer) Cap() int64 { return b.size }

// Full reports whether Len has reached Cap.
func (b *Buffer) Full() bool { return b.n >= b.size }

// window returns the writable space at the end of the buffer, attaching a
// slab when the last one is used up.
func (b *Buffer) window() []byte {
	slab := int64(b.p.slab)
	i := b.n / slab
	if i == int64(len(b.slabs)) {
		b.slabs = append(b.slabs, b.p.takeSlab())
	}
	start := b.n % slab
	end := min(slab, start+b.size-b.n)
	return b.slabs[i][start:end]
}

// Write appends p. If p does not fit, it writes what fits and returns ErrFull.
func (b *Buffer) Write(p []byte) (int, error) {
	if b.released {
		return 0, errReleased
	}
	written := 0
	for len(p) > 0 {
		if b.Full() {
			return written, ErrFull
		}
		c := copy(b.window(), p)
		b.hashed(p[:c])
		b.n += int64(c)
		written += c
		p = p[c:]
	}
	return written, nil
}

// ReadFrom reads from r until the buffer is full or r ends. It returns nil
// when r reached io.EOF or the buffer filled up (check Full), and r's error
// otherwise; the bytes read before an error stay in the buffer.
func (b *Buffer) ReadFrom(r io.Reader) (int64, error) {
	if b.released {
		return 0, errReleased
	}
	var total int64
	for !b.Full() {
		w := b.window()
		c, err := r.Read(w)
		if c > 0 {
			b.hashed(w[:c])
		}
		b.n += int64(c)
		total += int64(c)
		if errors.Is(err, io.EOF) {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func (b *Buffer) hashed(p []byte) {
	if b.hash != nil {
		b.hash.Write(p) // a hash.Hash never fails
	}
}

// ReadAt implements io.ReaderAt over the bytes written so far.
func (b *Buffer) ReadAt(p []byte, off int64) (int, error) {
	if b.released {
		return 0, errReleased
	}
	if off < 0 {
		return 0, errors.New("bufpool: negative offset")
	}
	slab := int64(b.p.slab)
	read := 0
	for len(p) > 0 && off < b.n {
		s := b.slabs[off/slab]
		start := off % slab
		end := min(slab, start+b.n-off)
		c := copy(p, s[start:end])
		read += c
		off += int64(c)
		p = p[c:]
	}
	if len(p) > 0 {
		return read, io.EOF
	}
	return read, nil
}

// Reader returns a seekable reader over the bytes written so far. Being
// seekable lets an HTTP client rewind it to sign or retry a request.
func (b *Buffer) Reader() *io.SectionReader {
	return io.NewSectionReader(b, 0, b.n)
}

// Reset empties the buffer but keeps its reservation and slabs.
func (b *Buffer) Reset() {
	b.n = 0
	if b.hash != nil {
		b.hash.Reset()
	}
}

// Release returns the memory and the reservation to the pool. It is safe to
// call more than once; the buffer must not be used afterwards.
func (b *Buffer) Release() {
	if b == nil || b.released {
		return
	}
	b.released = true
	b.p.release(b.slabs, b.reserved)
	b.slabs = nil
}
