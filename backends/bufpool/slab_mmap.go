//go:build linux && !race

package bufpool

import "golang.org/x/sys/unix"

// offHeap reports whether slabs live outside the Go heap in this build.
const offHeap = true

// mapSlab returns size bytes of anonymous private memory, outside the Go
// heap. The garbage collector neither scans nor counts it, so its heap goal
// stays proportional to the small live heap of the process, not to the
// buffer budget (with heap slabs, GOGC=100 let garbage grow to about as
// much again as the budget). Pages become resident only when written.
func mapSlab(size int) ([]byte, error) {
	return unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
}

// unmapSlab returns a slab of mapSlab to the kernel; nothing may touch it
// afterwards.
func unmapSlab(b []byte) error { return unix.Munmap(b) }
