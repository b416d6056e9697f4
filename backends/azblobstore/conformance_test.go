package azblobstore

import (
	"testing"

	"github.com/tusgate/tusgate/test/backendtest"
)

// TestConformance runs the shared backend suite on Azurite with 1 MiB
// blocks, so the suite's sizes cross block boundaries.
func TestConformance(t *testing.T) {
	backendtest.RunOn(t, MiB, func(t *testing.T) *Store { return newStore(t, testConfig(t), nil) })
}
