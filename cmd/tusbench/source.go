package main

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
)

// source is a deterministic pseudo-random stream of size bytes, generated
// on the fly so that no method reads its input from disk and every method
// uploads exactly the same bytes for the same seed. It uses splitmix64,
// which makes several GB/s on one core: a cryptographic generator (ChaCha8
// here made ~0.9 GB/s) would take CPU from the servers being measured.
type source struct {
	state   uint64
	left    int64
	pending []byte // rest of the last word, when a Read ended mid-word
	word    [8]byte
}

func newSource(seed uint64, size int64) *source {
	return &source{state: seed ^ 0x9e3779b97f4a7c15, left: size}
}

func (s *source) next() uint64 {
	s.state += 0x9e3779b97f4a7c15
	z := s.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (s *source) Read(p []byte) (int, error) {
	if s.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > s.left {
		p = p[:s.left]
	}
	n := copy(p, s.pending)
	s.pending = s.pending[n:]
	for ; n+8 <= len(p); n += 8 {
		binary.LittleEndian.PutUint64(p[n:], s.next())
	}
	if n < len(p) {
		binary.LittleEndian.PutUint64(s.word[:], s.next())
		k := copy(p[n:], s.word[:])
		s.pending = s.word[k:]
		n += k
	}
	s.left -= int64(n)
	return n, nil
}

// sourceAt is the same stream addressable by offset (io.ReaderAt), for
// the tus client, which reads each request's section on its own. Word k
// of the stream is the generator's (k+1)-th output, so any byte can be
// computed without the ones before it.
type sourceAt struct {
	state uint64 // the generator's state before the first word
	size  int64
}

func newSourceAt(seed uint64, size int64) *sourceAt {
	return &sourceAt{state: seed ^ 0x9e3779b97f4a7c15, size: size}
}

func (s *sourceAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("source: negative offset")
	}
	if off >= s.size {
		return 0, io.EOF
	}
	want := len(p)
	if int64(want) > s.size-off {
		p = p[:s.size-off]
	}
	var word [8]byte
	g := source{state: s.state + uint64(off/8)*0x9e3779b97f4a7c15}
	n := 0
	if skip := int(off % 8); skip != 0 {
		binary.LittleEndian.PutUint64(word[:], g.next())
		n = copy(p, word[skip:])
	}
	for ; n+8 <= len(p); n += 8 {
		binary.LittleEndian.PutUint64(p[n:], g.next())
	}
	if n < len(p) {
		binary.LittleEndian.PutUint64(word[:], g.next())
		n += copy(p[n:], word[:])
	}
	if n < want {
		return n, io.EOF
	}
	return n, nil
}

// sourceSHA256 is the digest of the stream for seed.
func sourceSHA256(seed uint64, size int64) [sha256.Size]byte {
	h := sha256.New()
	_, _ = io.Copy(h, newSource(seed, size)) // neither side fails
	var sum [sha256.Size]byte
	copy(sum[:], h.Sum(nil))
	return sum
}

// seedFor gives every upload of every scenario its own stream.
func seedFor(scenario, upload int) uint64 { return uint64(scenario)<<32 | uint64(upload) }
