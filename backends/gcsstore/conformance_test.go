package gcsstore

import (
	"testing"

	"github.com/tusgate/tusgate/test/backendtest"
)

// TestConformance runs the shared backend suite on fake-gcs-server with
// 1 MiB parts, so the suite's sizes cross part boundaries.
func TestConformance(t *testing.T) {
	backendtest.RunOn(t, MiB, func(t *testing.T) *Store { return newStore(t, testConfig(t), nil) })
}
