package backendtest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// sizes are the object sizes every backend must store exactly: empty, one
// byte, just below, at and above the minimum part, and a multiple with an
// odd remainder.
func (s *suite) sizes() []int64 {
	mp := s.mp
	return slices.Compact([]int64{0, 1, mp - 1, mp, mp + 1, 3*mp + 7})
}

// testOneWrite stores each size from a single request body.
func (s *suite) testOneWrite(t *testing.T) {
	b := s.h.New(t)
	for _, size := range s.sizes() {
		t.Run(fmt.Sprintf("%dB", size), func(t *testing.T) {
			data := randomBytes(uint64(size)+1, size)
			up := s.create(t, b, size)
			up.writeAll(data)
			up.finish()
			up.verify(data)
		})
	}
}

// testManyWrites stores each size from many request bodies of random sizes,
// most of them below the minimum part (the tail path). A zero-byte upload
// gets no Write at all, as after a POST with Upload-Length: 0.
func (s *suite) testManyWrites(t *testing.T) {
	b := s.h.New(t)
	for _, size := range s.sizes() {
		t.Run(fmt.Sprintf("%dB", size), func(t *testing.T) {
			seed := uint64(size) + 1000
			data := randomBytes(seed, size)
			chunks := chunkSizes(rand.New(rand.NewPCG(seed, 7)), size, s.mp)
			t.Logf("seed %d: %d request bodies", seed, len(chunks))
			up := s.create(t, b, size)
			var off int64
			for _, n := range chunks {
				up.writeAll(data[off : off+n])
				off += n
			}
			up.finish()
			up.verify(data)
		})
	}
}

// testDeferredLength creates uploads without a length and declares it later,
// once after all bytes arrived (an empty PATCH with Upload-Length) and once
// between two bodies.
func (s *suite) testDeferredLength(t *testing.T) {
	b := s.h.New(t)
	t.Run("DeclaredAfterAllBytes", func(t *testing.T) {
		size := s.mp + 3
		data := randomBytes(21, size)
		up := s.create(t, b, -1)
		up.writeAll(data[:s.mp/2])
		up.writeAll(data[s.mp/2:])
		up.declareLength(size)
		up.finish()
		up.verify(data)
	})
	t.Run("DeclaredBetweenBodies", func(t *testing.T) {
		size := s.mp/2 + 5
		data := randomBytes(22, size)
		up := s.create(t, b, -1)
		up.writeAll(data[:size/3])
		up.declareLength(size)
		up.writeAll(data[size/3:])
		up.finish()
		up.verify(data)
	})
}
