package ietf

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"path"
	"strconv"
	"testing"

	"github.com/tusgate/tusgate/test/e2e"
	"github.com/tusgate/tusgate/test/testenv"
)

const MiB = 1 << 20

// draft sends a version 8 request and returns the response, body read.
func draft(t *testing.T, method, url string, body io.Reader, size int64, h map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = size
	req.Header.Set("Upload-Draft-Interop-Version", "8")
	for k, v := range h {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	return res
}

// TestDraftTakeoverAcrossReplicas: a version 8 append on replica 0 whose
// client stalls after 6 MiB is taken over by offset retrieval on replica 1,
// exactly as for tus: replica 0 stores what it received and lets go,
// replica 1 reports an offset the next append accepts, the append of the
// rest there completes the upload, and the object is the source.
func TestDraftTakeoverAcrossReplicas(t *testing.T) {
	c := startCluster(t)
	const size, sent = 12 * MiB, 6 * MiB
	data := testenv.Source(size, 77)
	res := draft(t, http.MethodPost, c.replicas[0].URL, nil, 0, map[string]string{
		"Upload-Complete": "?0", "Upload-Length": strconv.Itoa(size)})
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusCreated || loc == "" {
		t.Fatalf("creation: %d, Location %q", res.StatusCode, loc)
	}
	id := path.Base(loc)

	pr, pw := io.Pipe()
	done := make(chan *http.Response, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPatch, c.replicas[0].URL+id, pr)
		req.ContentLength = size
		for k, v := range map[string]string{"Upload-Draft-Interop-Version": "8", "Content-Type": "application/partial-upload",
			"Upload-Offset": "0", "Upload-Complete": "?1"} {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- nil
			return
		}
		_ = res.Body.Close()
		done <- res
	}()
	if _, err := pw.Write(data[:sent]); err != nil {
		t.Fatal(err)
	}
	// A first part is stored: replica 0 is reading the body. Then the
	// client stalls, and comes back on replica 1.
	e2e.AwaitCommitted(t, e2e.StateReader(t, c.redis.URL), loc, 5*MiB, nil)

	res = draft(t, http.MethodHead, c.replicas[1].URL+id, nil, 0, nil)
	offset, err := strconv.ParseInt(res.Header.Get("Upload-Offset"), 10, 64)
	if res.StatusCode != http.StatusNoContent || err != nil || offset < 5*MiB || offset > sent {
		t.Fatalf("HEAD on replica 1: %d, Upload-Offset %q; want 204 and an offset between the committed 5 MiB and the %d bytes sent",
			res.StatusCode, res.Header.Get("Upload-Offset"), sent)
	}
	if got := res.Header.Get("Upload-Complete"); got != "?0" {
		t.Errorf("HEAD on replica 1: Upload-Complete %q, want ?0", got)
	}
	res = draft(t, http.MethodPatch, c.replicas[1].URL+id, bytes.NewReader(data[offset:]), size-offset, map[string]string{
		"Content-Type": "application/partial-upload", "Upload-Offset": strconv.FormatInt(offset, 10), "Upload-Complete": "?1"})
	if res.StatusCode != http.StatusNoContent || res.Header.Get("Upload-Complete") != "?1" {
		t.Fatalf("append of the rest on replica 1: %d, Upload-Complete %q", res.StatusCode, res.Header.Get("Upload-Complete"))
	}
	pw.CloseWithError(errors.New("the stalled client gives up"))
	if old := <-done; old != nil && old.StatusCode != http.StatusLocked {
		t.Errorf("the stalled append ended with %d, want 423 or a cut connection", old.StatusCode)
	}

	want := sha256.Sum256(data)
	if got, n := objectSHA256(t, c.s3, c.bucket, c.prefix+id); got != hex.EncodeToString(want[:]) || n != size {
		t.Errorf("object %s: %d bytes with SHA-256 %s, want the %d source bytes", id, n, got, size)
	}
}
