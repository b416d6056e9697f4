package main

import (
	"bytes"
	"io"
	"testing"
)

// TestSourceIsDeterministicWhateverTheReadSizes reads the same stream with
// different read sizes (odd ones split words) and gets the same bytes,
// exactly size of them; another seed gives other bytes.
func TestSourceIsDeterministicWhateverTheReadSizes(t *testing.T) {
	const size = 1<<20 + 13
	want, err := io.ReadAll(newSource(7, size))
	if err != nil || len(want) != size {
		t.Fatalf("ReadAll: %d bytes, %v", len(want), err)
	}
	for _, chunk := range []int{1, 3, 8, 1000, 4097} {
		s := newSource(7, size)
		var got bytes.Buffer
		buf := make([]byte, chunk)
		for {
			n, err := s.Read(buf)
			got.Write(buf[:n])
			if err == io.EOF {
				break
			}
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("reads of %d bytes gave a different stream", chunk)
		}
	}
	other, _ := io.ReadAll(newSource(8, size))
	if bytes.Equal(other, want) {
		t.Error("seeds 7 and 8 gave the same stream")
	}
}

// TestSourceAtIsTheStream reads sections of the addressable source at
// every alignment and gets the stream's bytes, and io.EOF past its end.
func TestSourceAtIsTheStream(t *testing.T) {
	const size = 1<<16 + 5
	want, _ := io.ReadAll(newSource(7, size))
	s := newSourceAt(7, size)
	for _, off := range []int64{0, 1, 7, 8, 9, 1000, size - 9, size - 1} {
		for _, n := range []int{1, 5, 8, 17, 4096} {
			buf := make([]byte, n)
			got, err := s.ReadAt(buf, off)
			end := min(off+int64(n), size)
			if !bytes.Equal(buf[:got], want[off:end]) || int64(got) != end-off {
				t.Fatalf("ReadAt(%d bytes, %d): %d bytes differing from the stream", n, off, got)
			}
			if (end < off+int64(n)) != (err == io.EOF) {
				t.Fatalf("ReadAt(%d bytes, %d): error %v", n, off, err)
			}
		}
	}
	if n, err := s.ReadAt(make([]byte, 1), size); n != 0 || err != io.EOF {
		t.Fatalf("ReadAt at the end: %d, %v; want 0, EOF", n, err)
	}
}

func BenchmarkSource(b *testing.B) {
	buf := make([]byte, 64<<10)
	b.SetBytes(int64(len(buf)))
	s := newSource(1, 1<<62)
	for b.Loop() {
		_, _ = s.Read(buf)
	}
}
