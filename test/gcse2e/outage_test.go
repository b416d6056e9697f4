package gcse2e

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"net/http"
	"strconv"
	"testing"

	"github.com/tusgate/tusgate/test/e2e"
	"github.com/tusgate/tusgate/test/testenv"
)

// TestEmulatorOutageMidUpload stops a private fake-gcs-server between
// PATCHes (parts and a tail stored): a PATCH then gets 503 with
// Retry-After, HEAD still answers from state (it makes no storage call);
// after the emulator comes back on the same data the upload resumes at
// HEAD's offset and the object equals the source.
func TestEmulatorOutageMidUpload(t *testing.T) {
	t.Parallel()
	e := newEnv(t) // skip or fail like the others when the emulator is not set up
	const size = 6 * MiB
	port := testenv.FreePort(t)
	dir := t.TempDir()
	svc := []string{"GCS_PORT=" + strconv.Itoa(port), "GCS_BUCKET=" + e.bucket}
	t.Cleanup(func() { testenv.RunService(t, "gcs.sh", "stop", dir, svc) })
	testenv.RunService(t, "gcs.sh", "start", dir, svc)
	p := e2e.StartWith(t, e2e.Options{Env: []string{fmt.Sprintf("STORAGE_EMULATOR_HOST=127.0.0.1:%d", port)}},
		"--store", e.storeURL(), "--state", e.redisURL)
	data := sourceData(size, 12)
	url := e2e.Create(t, p.URL, size, nil)
	const first = 2*partSize + 1000
	if got := e2e.Patch(t, url, 0, data[:first]); got != first {
		t.Fatalf("first PATCH: offset %d", got)
	}

	testenv.RunService(t, "gcs.sh", "stop", dir, svc)
	req := e2e.Req(t, http.MethodPatch, url, bytes.NewReader(data[first:first+partSize]))
	req.Header.Set("Upload-Offset", strconv.Itoa(first))
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	res := e2e.Do(t, req)
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Fatalf("PATCH while the emulator is down: status %d, Retry-After %q; want 503 with one",
			res.StatusCode, res.Header.Get("Retry-After"))
	}
	offset := e2e.Offset(t, url)
	if offset < first {
		t.Fatalf("HEAD during the outage: offset %d, want at least %d", offset, first)
	}

	testenv.RunService(t, "gcs.sh", "start", dir, svc)
	if got := e2e.Patch(t, url, offset, data[offset:]); got != size {
		t.Fatalf("PATCH after the restart: offset %d", got)
	}
	sum, n := e2e.DownloadSHA256(t, url)
	if n != size || sum != sha256.Sum256(data) {
		t.Fatalf("GET after the outage: %d bytes, SHA-256 %x, want the source's", n, sum)
	}
}
