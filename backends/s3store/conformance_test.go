package s3store

import (
	"testing"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/test/backendtest"
)

// TestConformance runs the shared backend suite on the test bucket, every
// backend on a prefix of its own, with 5 MiB parts (S3's minimum). The
// largest object is capped so deferred-length uploads plan 5 MiB parts as
// well and cross part boundaries in the suite's sizes (planning for 5 TiB
// is covered by TestFinishUploadsTheTailOfADeferredUpload).
func TestConformance(t *testing.T) {
	backendtest.Run(t, backendtest.Harness{
		New: func(t *testing.T) backends.Backend {
			cfg := testConfig(t)
			cfg.MaxObjectSize = MaxParts * 5 * MiB
			return newStore(t, cfg, nil)
		},
		MinPart: 5 * MiB,
	})
}
