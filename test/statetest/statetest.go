// Package statetest holds the conformance suites every state.Store and
// state.Locker implementation runs against its real service, so the gateway
// can rely on the same semantics whichever store is configured.
package statetest

import (
	"testing"

	"github.com/tusgate/tusgate/state"
)

// Harness gives the suites fresh instances of one implementation.
type Harness struct {
	// New returns a fresh, empty store and the locker whose grants fence its commits.
	// Cleanup is registered with t.Cleanup.
	New func(t *testing.T) (state.Store, state.Locker)
	// Peer, when not nil, returns another store and locker on separate connections to the same
	// database as the most recent New: a second replica. Cross-client tests use it.
	Peer func(t *testing.T) (state.Store, state.Locker)
	// Expire makes the lease currently held on id lapse, as if its holder had paused past the
	// lease time. The holder is not told (its renewals will find the lease gone).
	Expire func(t *testing.T, id string)
	// Doomed, when not nil, returns a peer (as Peer) whose leases last far
	// longer than the suite waits, and a crash function that ends it as
	// SIGKILL ends a process: no unlock, no goodbye. Implementations whose
	// lockers cannot outlive their holder's process in another process
	// (bbolt allows one process per file) do not declare it.
	Doomed func(t *testing.T) (state.Store, state.Locker, func())
}

// RunStore runs the state.Store conformance suite. Each subtest gets a fresh
// store from h.New.
func RunStore(t *testing.T, h Harness) {
	if h.New == nil {
		t.Fatal("statetest: Harness.New is required")
	}
	runAll(t, h, storeTests)
}

// RunLocker runs the state.Locker conformance suite, including the fencing of
// store commits by lock grants. Cross-client subtests need h.Peer and
// lease-lapse subtests need h.Expire; they are skipped, by name, when the
// harness does not declare them.
func RunLocker(t *testing.T, h Harness) {
	if h.New == nil {
		t.Fatal("statetest: Harness.New is required")
	}
	runAll(t, h, lockerTests)
}

// Optional harness abilities a test may need.
const (
	needPeer   = "Peer"
	needExpire = "Expire"
	needDoomed = "Doomed"
)

type suiteTest struct {
	name string
	// needs names the optional harness abilities the test uses.
	needs []string
	run   func(t *testing.T, h Harness)
}

func runAll(t *testing.T, h Harness, tests []suiteTest) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, need := range tc.needs {
				switch {
				case need == needPeer && h.Peer == nil:
					t.Skip("harness declares no Peer: no second client to test against")
				case need == needExpire && h.Expire == nil:
					t.Skip("harness declares no Expire: lease lapse cannot be simulated")
				case need == needDoomed && h.Doomed == nil:
					t.Skip("harness declares no Doomed: no holder process that can die apart from the waiter")
				}
			}
			tc.run(t, h)
		})
	}
}
