// Package bufpool hands out upload buffers against one global byte budget
// shared by every upload of the process (design invariant 7). Get reserves a
// whole buffer at once and blocks while the budget is exhausted, which pauses
// reading from clients (backpressure) instead of allocating more memory.
//
// Memory is kept in fixed-size slabs that are reused across buffers, so the
// bytes ever allocated never exceed the budget and sizes that differ between
// uploads do not fragment the pool. On Linux the slabs are mapped outside
// the Go heap (see mapSlab), so the garbage collector does not let garbage
// grow in proportion to the budget.
package bufpool

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"golang.org/x/sync/semaphore"
)

// DefaultSlabSize is the slab size used when New is given none.
const DefaultSlabSize = 1 << 20

// Errors of Get and Close.
var (
	// ErrTooLarge is returned by Get for a size the budget can never satisfy.
	ErrTooLarge = errors.New("bufpool: buffer larger than the pool budget")
	// ErrClosed is returned by Get after Close.
	ErrClosed = errors.New("bufpool: pool is closed")
	// ErrBusy is returned by Close while buffers are still reserved.
	ErrBusy = errors.New("bufpool: buffers are still in use")
)

// Stats is a snapshot of the pool's accounting, in bytes.
type Stats struct {
	Budget int64
	// InUse is reserved by buffers not yet released.
	InUse int64
	// Peak is the highest InUse seen.
	Peak int64
	// Allocated is the memory the pool has ever allocated (never above Budget).
	Allocated int64
	// Waiting counts Get calls blocked on the budget.
	Waiting int
	// Waits counts every Get so far that could not reserve at once and had
	// to wait for buffers to come back (whether or not it got one).
	Waits int64
	// OffHeap is the part of Allocated mapped outside the Go heap.
	OffHeap int64
}

// Pool is a byte budget with a free list of slabs. It is safe for
// concurrent use.
type Pool struct {
	slab  int
	slabs int64 // budget in slabs
	// sem is FIFO, so a large request is not starved by a stream of small ones.
	sem *semaphore.Weighted

	mu        sync.Mutex
	free      [][]byte
	allocated int64
	reserved  int64
	peak      int64
	waiting   int
	waits     int64
	closed    bool

	arena   *arena
	cleanup runtime.Cleanup
}

// arena owns the slabs mapped outside the heap. It is apart from Pool so
// that a cleanup attached to an unreachable Pool can unmap them: it must
// not point back to the Pool. An unreachable Pool has no reachable Buffer
// either (each points to its pool), so nothing can touch the slabs then.
type arena struct {
	mu     sync.Mutex
	mapped [][]byte
}

func (a *arena) add(s []byte) {
	a.mu.Lock()
	a.mapped = append(a.mapped, s)
	a.mu.Unlock()
}

func (a *arena) count() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return int64(len(a.mapped))
}

func (a *arena) unmapAll() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, s := range a.mapped {
		_ = unmapSlab(s) // only fails for a slice mmap did not return
	}
	a.mapped = nil
}

// New returns a pool of budget bytes, rounded down to whole slabs (at least
// one). slabSize <= 0 selects DefaultSlabSize.
func New(budget int64, slabSize int) *Pool {
	if slabSize <= 0 {
		slabSize = DefaultSlabSize
	}
	n := budget / int64(slabSize)
	if n < 1 {
		n = 1
	}
	p := &Pool{slab: slabSize, slabs: n, sem: semaphore.NewWeighted(n), arena: &arena{}}
	// Pools dropped without Close (tests make many) give their mapped
	// memory back like heap slabs would be collected.
	p.cleanup = runtime.AddCleanup(p, (*arena).unmapAll, p.arena)
	return p
}

// Close unmaps the pool's memory. It fails with ErrBusy while a buffer is
// reserved (its slabs could still be read); afterwards Get fails with
// ErrClosed. Closing a closed pool does nothing.
func (p *Pool) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	if p.reserved > 0 {
		return fmt.Errorf("%w: %d bytes reserved", ErrBusy, p.reserved*int64(p.slab))
	}
	p.closed = true
	p.free = nil
	p.cleanup.Stop()
	p.arena.unmapAll()
	return nil
}

// Budget is the pool's budget in bytes.
func (p *Pool) Budget() int64 { return p.slabs * int64(p.slab) }

// SlabSize is the granularity of reservations.
func (p *Pool) SlabSize() int { return p.slab }

// Get reserves a buffer able to hold size bytes, waiting until the budget
// allows it or ctx is done. Memory is attached lazily as the buffer fills,
// but the whole reservation counts against the budget from the start: a
// writer never waits for more while holding part of a buffer, so writers
// cannot deadlock each other.
func (p *Pool) Get(ctx context.Context, size int64) (*Buffer, error) {
	if size < 0 {
		return nil, fmt.Errorf("bufpool: negative size %d", size)
	}
	n := (size + int64(p.slab) - 1) / int64(p.slab)
	if n > p.slabs {
		return nil, fmt.Errorf("%w: %d bytes requested, budget %d", ErrTooLarge, size, p.Budget())
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, ErrClosed
	}
	p.waiting++
	p.mu.Unlock()
	// TryAcquire fails while earlier Gets wait, even with room: FIFO, so
	// this one waits too.
	var err error
	waited := !p.sem.TryAcquire(n)
	if waited {
		err = p.sem.Acquire(ctx, n)
	}
	p.mu.Lock()
	p.waiting--
	if waited {
		p.waits++
	}
	closed := p.closed
	if err == nil && !closed {
		p.reserved += n
		p.peak = max(p.peak, p.reserved)
	}
	p.mu.Unlock()
	switch {
	case err != nil:
		return nil, fmt.Errorf("bufpool: waiting for %d bytes: %w", size, err)
	case closed:
		p.sem.Release(n)
		return nil, ErrClosed
	}
	return &Buffer{p: p, size: size, reserved: n}, nil
}

// Stats returns the current accounting.
func (p *Pool) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := int64(p.slab)
	return Stats{
		Budget:    p.slabs * s,
		InUse:     p.reserved * s,
		Peak:      p.peak * s,
		Allocated: p.allocated * s,
		Waiting:   p.waiting,
		Waits:     p.waits,
		OffHeap:   p.arena.count() * s,
	}
}

// takeSlab is only called within a reservation, so allocating here never
// takes the pool past its budget.
func (p *Pool) takeSlab() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.free); n > 0 {
		s := p.free[n-1]
		p.free[n-1] = nil
		p.free = p.free[:n-1]
		return s
	}
	p.allocated++
	if s, err := mapSlab(p.slab); err == nil {
		p.arena.add(s)
		return s
	}
	// No mapping (a race build, or the kernel's map limit): heap memory
	// works the same, the GC just counts it.
	return make([]byte, p.slab)
}

func (p *Pool) release(slabs [][]byte, reserved int64) {
	p.mu.Lock()
	p.free = append(p.free, slabs...)
	p.reserved -= reserved
	p.mu.Unlock()
	p.sem.Release(reserved)
}
