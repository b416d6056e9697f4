package multipart

import "context"

// Gate bounds the store calls in flight of a process (as many as its
// connections).
type Gate struct{ slots chan struct{} }

// NewGate admits n calls at once.
func NewGate(n int) *Gate { return &Gate{slots: make(chan struct{}, max(n, 1))} }

// Do runs one SDK call once one of the gate's slots is free, on a goroutine
// of its own. Callers beyond the connection cap then wait here, before the
// SDK builds anything, instead of inside the transport holding a built
// request. The call itself runs its deep middleware stack on a short-lived
// goroutine, so the goroutine of an upload (which stays alive while it
// waits for buffers or bytes) keeps a small stack: at hundreds of
// concurrent uploads those stacks and in-flight requests were most of the
// memory that grew with them.
func Do[T any](ctx context.Context, g *Gate, call func(context.Context) (T, error)) (T, error) {
	select {
	case g.slots <- struct{}{}:
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		defer func() { <-g.slots }()
		v, err := call(ctx)
		ch <- result{v, err}
	}()
	r := <-ch
	return r.v, r.err
}

// Connections is how many connections to a store a process needs: one for
// every part the buffer budget can hold at once (parts are at least
// minPartSize), which keeps part uploads from ever waiting for one, plus 16
// for the small requests (create, complete, tails, deletes). Each
// connection costs two goroutines and two buffers for as long as it stays
// open; with a connection per upload, 256 uploads starting at once left
// some 130 of them open, about 10 MiB (docs/benchmarks.md).
func Connections(minPartSize, budget int64) int {
	return int(min(budget/max(minPartSize, 1), 1024)) + 16
}
