package bufpool

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"runtime"
	"testing"
	"testing/iotest"
)

// heapAlloc is the live heap after a full collection.
func heapAlloc() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// TestSlabsLiveOutsideTheHeapWhenMapped fills 8 MiB of buffers and checks
// where the memory went: on Linux (race builds aside) it is mapped outside
// the Go heap, so the live heap, which sets the GC's goal, does not grow
// with the budget; elsewhere it is ordinary heap memory.
func TestSlabsLiveOutsideTheHeapWhenMapped(t *testing.T) {
	const size = 8 << 20
	p := New(size, 1<<20)
	defer func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	}()
	data := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	before := heapAlloc()
	b, err := p.Get(context.Background(), size)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.ReadFrom(bytes.NewReader(data)); err != nil || !b.Full() {
		t.Fatalf("fill: %v, full %v", err, b.Full())
	}
	grown := heapAlloc() - before
	got, _ := io.ReadAll(b.Reader())
	if !bytes.Equal(got, data) {
		t.Fatal("buffer returned other bytes than were written")
	}
	s := p.Stats()
	b.Release()
	if offHeap {
		if s.OffHeap != size || s.Allocated != size {
			t.Fatalf("stats %+v: want all %d bytes allocated off the heap", s, size)
		}
		if grown > size/4 {
			t.Fatalf("the live heap grew by %d bytes for %d bytes of mapped slabs", grown, size)
		}
	} else {
		if s.OffHeap != 0 {
			t.Fatalf("stats %+v: this build keeps slabs on the heap", s)
		}
		if grown < size {
			t.Fatalf("the live heap grew by %d bytes for %d bytes of heap slabs", grown, size)
		}
	}
}

func TestCloseRefusesWhileBuffersAreReservedThenUnmaps(t *testing.T) {
	p := New(4*slab, slab)
	b, err := p.Get(context.Background(), 2*slab)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Write(make([]byte, 2*slab)); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); !errors.Is(err, ErrBusy) {
		t.Fatalf("Close with a buffer out: %v, want ErrBusy", err)
	}
	// The refused Close must leave the pool working.
	got := make([]byte, 2*slab)
	if _, err := b.ReadAt(got, 0); err != nil {
		t.Fatal(err)
	}
	b.Release()
	if err := p.Close(); err != nil {
		t.Fatalf("Close after Release: %v", err)
	}
	if s := p.Stats(); s.OffHeap != 0 {
		t.Fatalf("after Close %d bytes are still mapped", s.OffHeap)
	}
	if _, err := p.Get(context.Background(), slab); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get after Close: %v, want ErrClosed", err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestDroppedPoolGivesItsMemoryBack: a pool that becomes unreachable
// without Close unmaps its slabs, as heap slabs would be collected.
func TestDroppedPoolGivesItsMemoryBack(t *testing.T) {
	p := New(4*slab, slab)
	b, err := p.Get(context.Background(), 3*slab)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Write(make([]byte, 3*slab)); err != nil {
		t.Fatal(err)
	}
	b.Release()
	a := p.arena
	if offHeap && a.count() != 3 {
		t.Fatalf("%d slabs mapped, want 3", a.count())
	}
	p, b = nil, nil // drop the last references
	waitFor(t, "the cleanup to unmap the slabs", func() bool {
		runtime.GC()
		return a.count() == 0
	})
}

// TestHashSeesExactlyTheBytesWritten fills a hashing buffer in reads of
// every size (one byte, halves, across slab boundaries) and with Write,
// and compares the digest with one computed over the data afterwards.
func TestHashSeesExactlyTheBytesWritten(t *testing.T) {
	p := New(16*slab, slab)
	data := make([]byte, 5*slab+123)
	for i := range data {
		data[i] = byte(i*31 + i>>8)
	}
	readers := map[string]func() io.Reader{
		"whole":    func() io.Reader { return bytes.NewReader(data) },
		"one byte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(data)) },
		"halves":   func() io.Reader { return iotest.HalfReader(bytes.NewReader(data)) },
	}
	for name, r := range readers {
		t.Run(name, func(t *testing.T) {
			b, err := p.Get(context.Background(), int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			defer b.Release()
			if err := b.HashWith(sha256.New()); err != nil {
				t.Fatal(err)
			}
			if _, err := b.Write(data[:100]); err != nil {
				t.Fatal(err)
			}
			if _, err := b.ReadFrom(io.MultiReader(r(), bytes.NewReader(data))); err != nil || !b.Full() {
				t.Fatalf("fill: %v, full %v", err, b.Full())
			}
			want := sha256.Sum256(append(data[:100:100], data[:len(data)-100]...))
			if got := b.Hash().Sum(nil); !bytes.Equal(got, want[:]) {
				t.Fatalf("hash %x, want %x", got, want)
			}
			b.Reset()
			empty := sha256.Sum256(nil)
			if got := b.Hash().Sum(nil); !bytes.Equal(got, empty[:]) {
				t.Fatal("Reset kept the hash of the old contents")
			}
		})
	}
	t.Run("not empty", func(t *testing.T) {
		b, _ := p.Get(context.Background(), slab)
		defer b.Release()
		_, _ = b.Write([]byte("x"))
		if err := b.HashWith(sha256.New()); err == nil {
			t.Fatal("HashWith accepted a buffer that already holds bytes")
		}
		if b.Hash() != nil {
			t.Fatal("a refused hash was kept")
		}
	})
}
