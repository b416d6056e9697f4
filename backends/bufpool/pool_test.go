package bufpool

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const slab = 1024

// waitFor polls cond until it holds; the deadline is only a guard against a
// hung test, not a performance requirement.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestBudgetNeverExceededUnderConcurrency(t *testing.T) {
	const budget = 8 * slab
	p := New(budget, slab)
	var held, maxHeld atomic.Int64 // measured outside the pool's own counters
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for range 50 {
				size := 1 + rng.Int64N(4*slab)
				b, err := p.Get(context.Background(), size)
				if err != nil {
					t.Error(err)
					return
				}
				rounded := (size + slab - 1) / slab * slab
				now := held.Add(rounded)
				for {
					m := maxHeld.Load()
					if now <= m || maxHeld.CompareAndSwap(m, now) {
						break
					}
				}
				data := make([]byte, size)
				for i := range data {
					data[i] = byte(rng.Uint32())
				}
				if _, err := b.ReadFrom(bytes.NewReader(data)); err != nil || !b.Full() {
					t.Errorf("fill: err=%v full=%v", err, b.Full())
				}
				got, _ := io.ReadAll(b.Reader())
				if !bytes.Equal(got, data) {
					t.Error("buffer returned other bytes than were written")
				}
				held.Add(-rounded)
				b.Release()
			}
		}()
	}
	wg.Wait()
	s := p.Stats()
	if m := maxHeld.Load(); m > budget {
		t.Fatalf("buffers held at once reached %d bytes, budget %d", m, budget)
	}
	if s.Peak > budget || s.Allocated > budget {
		t.Fatalf("pool accounting over budget: %+v", s)
	}
	if s.InUse != 0 || s.Waiting != 0 {
		t.Fatalf("reservations leaked: %+v", s)
	}
}

// TestGetBlocksUntilABufferIsReleased also checks Stats.Waits: a Get that
// fits counts no wait, the one that blocks counts one.
func TestGetBlocksUntilABufferIsReleased(t *testing.T) {
	p := New(2*slab, slab)
	a, err := p.Get(context.Background(), 2*slab)
	if err != nil {
		t.Fatal(err)
	}
	if w := p.Stats().Waits; w != 0 {
		t.Fatalf("Waits = %d after a Get that fitted the budget, want 0", w)
	}
	got := make(chan *Buffer, 1)
	go func() {
		b, err := p.Get(context.Background(), slab)
		if err != nil {
			t.Error(err)
		}
		got <- b
	}()
	waitFor(t, "Get to block on the exhausted budget", func() bool { return p.Stats().Waiting == 1 })
	select {
	case <-got:
		t.Fatal("Get returned while the budget was exhausted")
	default:
	}
	a.Release()
	select {
	case b := <-got:
		if b.Cap() != slab {
			t.Fatalf("cap = %d, want %d", b.Cap(), slab)
		}
		b.Release()
	case <-time.After(10 * time.Second):
		t.Fatal("Get did not proceed after a buffer was released")
	}
	if w := p.Stats().Waits; w != 1 {
		t.Fatalf("Waits = %d after one Get waited for a release, want 1", w)
	}
	c, err := p.Get(context.Background(), 2*slab)
	if err != nil {
		t.Fatal(err)
	}
	c.Release()
	if w := p.Stats().Waits; w != 1 {
		t.Fatalf("Waits = %d after a Get with the budget free, want still 1", w)
	}
}

func TestGetHonoursContextCancellation(t *testing.T) {
	p := New(slab, slab)
	a, err := p.Get(context.Background(), slab)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := p.Get(ctx, slab)
		errc <- err
	}()
	waitFor(t, "Get to block", func() bool { return p.Stats().Waiting == 1 })
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if w := p.Stats().Waits; w != 1 {
		t.Fatalf("Waits = %d after a Get gave up waiting, want 1: it waited", w)
	}
	a.Release()
	// The cancelled waiter must not have kept any of the budget.
	b, err := p.Get(context.Background(), slab)
	if err != nil {
		t.Fatal(err)
	}
	b.Release()
	if s := p.Stats(); s.InUse != 0 || s.Waiting != 0 {
		t.Fatalf("after cancel: %+v", s)
	}
}

func TestGetLargerThanBudgetFailsAtOnce(t *testing.T) {
	p := New(4*slab, slab)
	if _, err := p.Get(context.Background(), 4*slab+1); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
}

func TestSlabsAreReusedNotReallocated(t *testing.T) {
	p := New(4*slab, slab)
	for range 10 {
		b, err := p.Get(context.Background(), 3*slab)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.ReadFrom(bytes.NewReader(make([]byte, 3*slab))); err != nil {
			t.Fatal(err)
		}
		b.Release()
	}
	if got := p.Stats().Allocated; got != 3*slab {
		t.Fatalf("allocated %d bytes over 10 rounds, want the 3 slabs of one round (%d)", got, 3*slab)
	}
}

func TestMemoryIsAttachedAsTheBufferFills(t *testing.T) {
	p := New(16*slab, slab)
	b, err := p.Get(context.Background(), 10*slab)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	if _, err := b.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	s := p.Stats()
	if s.InUse != 10*slab {
		t.Fatalf("reserved %d, want the whole buffer %d", s.InUse, 10*slab)
	}
	if s.Allocated != slab {
		t.Fatalf("allocated %d for one byte, want one slab", s.Allocated)
	}
}

func TestReadFromStopsAtCapacityEOFOrError(t *testing.T) {
	p := New(8*slab, slab)
	data := make([]byte, 3*slab)
	for i := range data {
		data[i] = byte(i * 7)
	}

	t.Run("full", func(t *testing.T) {
		b, _ := p.Get(context.Background(), 2*slab+10)
		defer b.Release()
		r := bytes.NewReader(data)
		n, err := b.ReadFrom(r)
		if err != nil || n != 2*slab+10 || !b.Full() {
			t.Fatalf("n=%d err=%v full=%v", n, err, b.Full())
		}
		if r.Len() != len(data)-(2*slab+10) {
			t.Fatalf("read past capacity: %d left in source", r.Len())
		}
		got := make([]byte, 20)
		if _, err := b.ReadAt(got, 2*slab-10); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data[2*slab-10:2*slab+10]) {
			t.Fatal("ReadAt across a slab boundary returned other bytes")
		}
	})
	t.Run("eof", func(t *testing.T) {
		b, _ := p.Get(context.Background(), 4*slab)
		defer b.Release()
		n, err := b.ReadFrom(bytes.NewReader(data[:100]))
		if err != nil || n != 100 || b.Full() {
			t.Fatalf("n=%d err=%v full=%v", n, err, b.Full())
		}
	})
	t.Run("error keeps bytes", func(t *testing.T) {
		b, _ := p.Get(context.Background(), 4*slab)
		defer b.Release()
		boom := errors.New("client went away")
		r := io.MultiReader(bytes.NewReader(data[:1500]), &failing{boom})
		n, err := b.ReadFrom(r)
		if !errors.Is(err, boom) || n != 1500 || b.Len() != 1500 {
			t.Fatalf("n=%d len=%d err=%v", n, b.Len(), err)
		}
		got, _ := io.ReadAll(b.Reader())
		if !bytes.Equal(got, data[:1500]) {
			t.Fatal("bytes read before the error were not kept")
		}
	})
	t.Run("write overflow", func(t *testing.T) {
		b, _ := p.Get(context.Background(), 10)
		defer b.Release()
		n, err := b.Write(make([]byte, 11))
		if !errors.Is(err, ErrFull) || n != 10 {
			t.Fatalf("n=%d err=%v", n, err)
		}
	})
}

func TestReleaseIsIdempotentAndUseAfterReleaseFails(t *testing.T) {
	p := New(2*slab, slab)
	b, _ := p.Get(context.Background(), 2*slab)
	b.Release()
	b.Release()
	if s := p.Stats(); s.InUse != 0 {
		t.Fatalf("double release corrupted accounting: %+v", s)
	}
	if _, err := b.Write([]byte("x")); err == nil {
		t.Fatal("Write after Release succeeded")
	}
}

type failing struct{ err error }

func (f *failing) Read([]byte) (int, error) { return 0, f.err }
