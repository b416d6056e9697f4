package statetest

import (
	"sync"

	"github.com/tusgate/tusgate/state"
)

// LockEvents is a state.LockObserver that records what it hears, for
// tests of the stores' observer calls.
type LockEvents struct {
	mu        sync.Mutex
	sent      int
	takeovers map[state.Takeover]int
}

var _ state.LockObserver = (*LockEvents)(nil)

// ReleaseSent implements state.LockObserver.
func (e *LockEvents) ReleaseSent() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.sent++
}

// TookOver implements state.LockObserver.
func (e *LockEvents) TookOver(how state.Takeover) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.takeovers == nil {
		e.takeovers = map[state.Takeover]int{}
	}
	e.takeovers[how]++
}

// Counts returns the release requests sent and the takeovers by kind.
func (e *LockEvents) Counts() (sent int, takeovers map[state.Takeover]int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	m := make(map[state.Takeover]int, len(e.takeovers))
	for k, v := range e.takeovers {
		m[k] = v
	}
	return e.sent, m
}
