//go:build !linux || race

package bufpool

import "errors"

// offHeap reports whether slabs live outside the Go heap in this build.
// The race detector does not watch memory outside the Go heap, so race
// builds keep slabs on the heap, where a buffer reused too early shows up.
const offHeap = false

var errHeapOnly = errors.New("bufpool: off-heap slabs are not used in this build")

// mapSlab always fails here: slabs come from the Go heap.
func mapSlab(int) ([]byte, error) { return nil, errHeapOnly }

func unmapSlab([]byte) error { return nil }
