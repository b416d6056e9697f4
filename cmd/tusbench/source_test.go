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

func BenchmarkSource(b *testing.B) {
	buf := make([]byte, 64<<10)
	b.SetBytes(int64(len(buf)))
	s := newSource(1, 1<<62)
	for b.Loop() {
		_, _ = s.Read(buf)
	}
}
