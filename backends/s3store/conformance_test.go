package s3store

import (
	"testing"

	"github.com/tusgate/tusgate/test/backendtest"
)

// TestConformance runs the shared backend suite on the test bucket, every
// backend on a prefix of its own, with 5 MiB parts (S3's minimum) and the
// default largest object, so deferred-length uploads get the doubling
// layout, which starts with 5 MiB parts too and crosses part boundaries in
// the suite's sizes.
func TestConformance(t *testing.T) {
	backendtest.RunOn(t, 5*MiB, func(t *testing.T) *Store { return newStore(t, testConfig(t), nil) })
}

// TestConformanceTiersOfOnePart runs the suite with deferred-length parts
// doubling after every part (5, 10, 20 MiB), so its deferred uploads cross
// a tier boundary.
func TestConformanceTiersOfOnePart(t *testing.T) {
	backendtest.RunOn(t, 5*MiB, func(t *testing.T) *Store {
		cfg := testConfig(t)
		cfg.deferredTier = 1
		return newStore(t, cfg, nil)
	})
}
