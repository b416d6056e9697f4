// Package backendtest is the conformance suite every backends.Backend runs
// against its real service. It plays the gateway: it creates uploads, feeds
// Write, records every commit the way a state store would, finishes with the
// recorded manifest and reads the object back to compare it with the source.
//
// Contract points the suite settles where backends.go leaves room:
//   - Write may stop reading once it has every byte; it must still commit them.
//   - A Change from Write never declares a length or marks the upload finished.
//   - After Concat returns, the final object is complete and readable; the
//     suite does not call Finish on it. Partials stay readable (they may be
//     reused in other finals).
//   - Cancelling ctx makes Write return an error wrapping context.Canceled
//     having read at most about one MinPart more from the body.
package backendtest

import (
	"sync/atomic"
	"testing"

	"github.com/tusgate/tusgate/backends"
)

// Harness describes the backend under test.
type Harness struct {
	// New returns a fresh backend (its own bucket/prefix/dir); cleanup via t.Cleanup.
	New func(t *testing.T) backends.Backend
	// MinPart is the smallest piece the backend stores on its own (S3: the minimum part size it was
	// configured with; 0 for stores without one). Size tests use 0, 1, MinPart-1, MinPart, MinPart+1,
	// and a few multiples.
	MinPart int64
}

// defaultMinPart stands in for MinPart when the backend has none, so the
// size tests still cover several buffer-sized steps.
const defaultMinPart = 64 << 10

// suite carries what every subtest shares.
type suite struct {
	h Harness
	// mp is the effective MinPart (never 0).
	mp int64
	// sent counts bytes handed to Write, reported at the end to keep the
	// suite's traffic in view.
	sent atomic.Int64
}

// Run runs the whole suite; each behaviour is a subtest.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.New == nil {
		t.Fatal("backendtest: Harness.New is nil")
	}
	if h.MinPart < 0 {
		t.Fatalf("backendtest: Harness.MinPart is negative (%d)", h.MinPart)
	}
	s := &suite{h: h, mp: h.MinPart}
	if s.mp == 0 {
		s.mp = defaultMinPart
	}
	if s.mp < 4 {
		t.Fatalf("backendtest: Harness.MinPart %d is too small to build the size cases", h.MinPart)
	}
	t.Run("Ping", s.testPing)
	t.Run("OneWrite", s.testOneWrite)
	t.Run("ManyWrites", s.testManyWrites)
	t.Run("DeferredLength", s.testDeferredLength)
	t.Run("InterruptedBody", s.testInterruptedBody)
	t.Run("CommitRefused", s.testCommitRefused)
	t.Run("RetryUncommittedRange", s.testRetryUncommittedRange)
	t.Run("FinishTwiceIsHarmless", s.testFinishTwice)
	t.Run("RangeReaderWindows", s.testRangeWindows)
	t.Run("Delete", s.testDelete)
	t.Run("Concat", s.testConcat)
	t.Run("ContextCancelDuringWrite", s.testCancelDuringWrite)
	t.Logf("backendtest: %.1f MiB handed to Write (MinPart used: %d)", float64(s.sent.Load())/(1<<20), s.mp)
}
