package s3e2e

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/tusgate/tusgate/test/e2e"
)

// TestDeferredLengthWithMaxSizeFitsDefaultBudget runs the gateway with
// --max-size 1GiB and the default 64 MiB memory budget, with growing and
// with equal parts. Deferred-length uploads plan their parts for the
// largest object allowed, which --max-size bounds to 1 GiB (cmd/tusgate
// passes it on as the S3 max_object_size for exactly this), so 5 MiB parts
// fit the budget: the upload must be accepted, take its length later and
// reach the bucket intact.
func TestDeferredLengthWithMaxSizeFitsDefaultBudget(t *testing.T) {
	t.Parallel()
	for _, opts := range []url.Values{{}, {"equal_parts": {"true"}}} {
		t.Run("store options "+opts.Encode(), func(t *testing.T) {
			const size = 7 * MiB
			e := newEnv(t)
			e.storeOptions = opts
			p := e.start(t, "--max-size", "1GiB")
			data := sourceData(size, 13)

			r := send(http.MethodPost, p.URL, http.Header{"Upload-Defer-Length": {"1"}}, nil)
			if r.err != nil || r.status != http.StatusCreated {
				t.Fatalf("POST with Upload-Defer-Length: 1 and --max-size 1GiB: status %d, err %v, want 201: %s", r.status, r.err, r.body)
			}
			url := r.header.Get("Location")
			if got := e2e.Patch(t, url, 0, data[:3*MiB]); got != 3*MiB {
				t.Fatalf("first PATCH: Upload-Offset %d, want %d", got, 3*MiB)
			}
			h := patchHeader(3 * MiB)
			h.Set("Upload-Length", "7340032")
			r = send(http.MethodPatch, url, h, data[3*MiB:])
			if r.err != nil || r.status != http.StatusNoContent || r.header.Get("Upload-Offset") != "7340032" {
				t.Fatalf("PATCH declaring the length: status %d, offset %q, err %v: %s", r.status, r.header.Get("Upload-Offset"), r.err, r.body)
			}
			e.checkContent(t, url, data)
		})
	}
}
