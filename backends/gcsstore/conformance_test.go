package gcsstore

import (
	"testing"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/test/backendtest"
)

// TestConformance runs the shared backend suite on fake-gcs-server with
// 1 MiB parts, so the suite's sizes cross part boundaries.
func TestConformance(t *testing.T) {
	backendtest.Run(t, backendtest.Harness{
		New: func(t *testing.T) backends.Backend {
			return newStore(t, testConfig(t), nil)
		},
		MinPart: MiB,
	})
}
