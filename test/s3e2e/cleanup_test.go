package s3e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/tusgate/tusgate/test/e2e"
)

// startUnfinished creates an upload and sends 7 MiB of its 12 MiB: one
// stored part of the multipart upload and a 2 MiB tail object. It checks
// that both exist, so the clean-up checks that follow mean something.
func startUnfinished(t *testing.T, e *env, p *e2e.Proc) string {
	t.Helper()
	data := sourceData(12*MiB, 11)
	url := e2e.Create(t, p.URL, int64(len(data)), nil)
	if got := e2e.Patch(t, url, 0, data[:7*MiB]); got != 7*MiB {
		t.Fatalf("PATCH: Upload-Offset %d, want %d", got, 7*MiB)
	}
	if mpu := e.multipartUnder(t, e.key(url)); len(mpu) != 1 {
		t.Fatalf("multipart uploads under %s: %v, want one", e.key(url), mpu)
	}
	if keys := e.keysUnder(t, e.key(url)); len(keys) != 1 {
		t.Fatalf("objects under %s: %v, want one tail", e.key(url), keys)
	}
	return url
}

// awaitNothingStored waits until the upload has neither a pending
// multipart upload nor any object (tail or final) in the bucket.
func awaitNothingStored(t *testing.T, e *env, url string) {
	t.Helper()
	var mpu, keys []string
	e2e.Eventually(t, time.Minute, "the upload's multipart upload and tails to be removed", func() bool {
		mpu, keys = e.multipartUnder(t, e.key(url)), e.keysUnder(t, e.key(url))
		return len(mpu) == 0 && len(keys) == 0
	})
}

func expectGone(t *testing.T, what string, status int) {
	t.Helper()
	if status != http.StatusNotFound && status != http.StatusGone {
		t.Errorf("%s: status %d, want 404 or 410", what, status)
	}
}

// TestTerminationAbortsMultipartAndDeletesTails deletes an unfinished
// upload: its multipart upload is aborted and its tail deleted, and the
// upload is gone for HEAD and PATCH.
func TestTerminationAbortsMultipartAndDeletesTails(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.start(t)
	url := startUnfinished(t, e, p)

	r := send(http.MethodDelete, url, nil, nil)
	if r.err != nil || r.status != http.StatusNoContent {
		t.Fatalf("DELETE: status %d, err %v, want 204: %s", r.status, r.err, r.body)
	}
	if mpu := e.multipartUnder(t, e.key(url)); len(mpu) != 0 {
		t.Errorf("multipart uploads after DELETE: %v, want none", mpu)
	}
	if keys := e.keysUnder(t, e.key(url)); len(keys) != 0 {
		t.Errorf("objects after DELETE: %v, want none", keys)
	}
	expectGone(t, "HEAD after DELETE", e2e.Head(t, url).StatusCode)
	expectGone(t, "PATCH after DELETE", send(http.MethodPatch, url, patchHeader(7*MiB), []byte("x")).status)
}

// TestExpiryAbortsMultipartAndDeletesTails leaves an upload unfinished
// past --expiration: the sweeper must abort its multipart upload and
// delete its tail, and the upload must be gone for HEAD and PATCH.
func TestExpiryAbortsMultipartAndDeletesTails(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.start(t, "--expiration", "2s", "--sweep-interval", "500ms")
	url := startUnfinished(t, e, p)

	awaitNothingStored(t, e, url)
	e2e.Eventually(t, time.Minute, "HEAD to report the upload gone", func() bool {
		s := e2e.Head(t, url).StatusCode
		return s == http.StatusNotFound || s == http.StatusGone
	})
	expectGone(t, "PATCH after expiry", send(http.MethodPatch, url, patchHeader(7*MiB), []byte("x")).status)
}
