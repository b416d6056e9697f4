package backendtest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/backends/bufpool"
	"github.com/tusgate/tusgate/backends/multipart"
	"github.com/tusgate/tusgate/state"
)

// Prefix returns a key prefix of the test's own, test/NAME-RANDOM/, so
// tests sharing a bucket or container never see each other's objects.
func Prefix(t testing.TB) string {
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	return fmt.Sprintf("test/%s-%s/", name, strings.ToLower(rand.Text()[:8]))
}

// NewFunc is a store's New: a backend on cfg with part buffers from pool.
type NewFunc[C any, B backends.Backend] func(ctx context.Context, cfg C, pool *bufpool.Pool, logger *slog.Logger) (B, error)

// Open returns a store from newStore on cfg with buffers from pool (nil: a
// pool of budget bytes); it fails t when the store cannot be opened and
// closes it when t ends.
func Open[C any, B backends.Backend](t testing.TB, newStore NewFunc[C, B], cfg C, pool *bufpool.Pool, budget int64) B {
	t.Helper()
	if pool == nil {
		pool = bufpool.New(budget, 0)
	}
	b, err := newStore(context.Background(), cfg, pool, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// Sweep clears what a test left in its store when it ends: sweep removes
// what is under the test's prefix through a store from newStore on cfg.
// Failures are logged, not failed: the test has run, and the prefix is its
// own.
func Sweep[C any, B backends.Backend](t testing.TB, newStore NewFunc[C, B], cfg C, sweep func(context.Context, B) error) {
	t.Cleanup(func() {
		ctx := context.Background()
		b, err := newStore(ctx, cfg, bufpool.New(1<<20, 0), nil)
		if err != nil {
			t.Logf("cleanup: %v", err)
			return
		}
		defer b.Close()
		if err := sweep(ctx, b); err != nil {
			t.Logf("cleanup: %v", err)
		}
	})
}

// RunOn runs the suite (Run) on a fresh backend from open for every test,
// with minPart as the Harness's MinPart.
func RunOn[B backends.Backend](t *testing.T, minPart int64, open func(t *testing.T) B) {
	t.Helper()
	Run(t, Harness{New: func(t *testing.T) backends.Backend { return open(t) }, MinPart: minPart})
}

// ParsesURL returns what parse (a store's ParseURL) makes of raw, failing
// t when it refuses it.
func ParsesURL[C any](t *testing.T, parse func(*url.URL) (C, error), raw string) C {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	c, err := parse(u)
	if err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return c
}

// RejectsURLs checks that parse (a store's ParseURL) refuses every URL of
// raw, so a typo or a value out of bounds never starts a store.
func RejectsURLs[C any](t *testing.T, parse func(*url.URL) (C, error), raw ...string) {
	t.Helper()
	for _, r := range raw {
		u, err := url.Parse(r)
		if err != nil {
			t.Fatalf("%s: %v", r, err)
		}
		if _, err := parse(u); err == nil {
			t.Errorf("%s: accepted", r)
		}
	}
}

// Classified checks what a store's classify made of cause: err keeps the
// cause, is exactly kind among the backends sentinels (nil: none of them),
// and tells clients to wait after (0: it has no RetryAfter).
func Classified(t *testing.T, cause, err, kind error, after time.Duration) {
	t.Helper()
	if !errors.Is(err, cause) {
		t.Errorf("%v: cause lost in %v", cause, err)
	}
	for _, k := range []error{backends.ErrNotFound, backends.ErrUnavailable, backends.ErrTooLarge} {
		if errors.Is(err, k) != (k == kind) {
			t.Errorf("%v: errors.Is(%v) = %v", cause, k, k != kind)
		}
	}
	var ra backends.RetryAfter
	if got := errors.As(err, &ra); got != (after > 0) || (got && ra.RetryAfter() != after) {
		t.Errorf("%v: retry after %v (%v), want %v", cause, ra, got, after)
	}
}

// ListsParts checks a driver's multipart.PartLister answer against the
// parts that were committed: what a refused completion is checked against
// must name them as the manifest does.
func ListsParts(t testing.TB, stored map[int]multipart.StoredPart, err error, committed []state.Part) {
	t.Helper()
	if err != nil || len(stored) != len(committed) {
		t.Fatalf("StoredParts: %v, %v; want the %d parts committed", stored, err, len(committed))
	}
	for _, p := range committed {
		if got := stored[p.Number]; got.ETag != p.ETag || got.Size != p.Size {
			t.Fatalf("StoredParts has %+v for part %+v", got, p)
		}
	}
}
