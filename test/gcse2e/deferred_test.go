package gcse2e

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"strconv"
	"testing"

	"github.com/tusgate/tusgate/test/e2e"
)

// TestDeferredLengthAndChecksum creates an upload without a length,
// sends 1.5 MiB, then a PATCH whose checksum does not match (460: nothing
// of it is kept, no tail object left behind), then the rest with the
// length declared on the last PATCH; the object equals the source.
func TestDeferredLengthAndChecksum(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.start(t)
	data := sourceData(2*partSize+partSize/2+9, 21)
	req := e2e.Req(t, http.MethodPost, p.URL, nil)
	req.Header.Set("Upload-Defer-Length", "1")
	res := e2e.Do(t, req)
	res.Body.Close()
	url := res.Header.Get("Location")
	if res.StatusCode != http.StatusCreated || url == "" {
		t.Fatalf("POST with a deferred length: status %d", res.StatusCode)
	}
	const first = partSize + partSize/2
	if got := e2e.Patch(t, url, 0, data[:first]); got != first {
		t.Fatalf("first PATCH: offset %d", got)
	}
	stored := len(e.objectsUnder(t, e.objectName(url)))

	send := func(body []byte, checksum []byte, length bool) *http.Response {
		req := e2e.Req(t, http.MethodPatch, url, bytes.NewReader(body))
		req.Header.Set("Upload-Offset", strconv.Itoa(first))
		req.Header.Set("Content-Type", "application/offset+octet-stream")
		req.Header.Set("Upload-Checksum", "sha1 "+base64.StdEncoding.EncodeToString(checksum))
		if length {
			req.Header.Set("Upload-Length", strconv.Itoa(len(data)))
		}
		res := e2e.Do(t, req)
		res.Body.Close()
		return res
	}
	wrong := sha1.Sum([]byte("other bytes"))
	if res := send(data[first:first+1000], wrong[:], false); res.StatusCode != 460 {
		t.Fatalf("PATCH with a wrong checksum: status %d, want 460", res.StatusCode)
	}
	if got := e2e.Offset(t, url); got != first {
		t.Fatalf("offset after the refused PATCH: %d, want %d", got, first)
	}
	if n := len(e.objectsUnder(t, e.objectName(url))); n != stored {
		t.Fatalf("%d objects under the upload after the refused PATCH, %d before", n, stored)
	}
	right := sha1.Sum(data[first:])
	if res := send(data[first:], right[:], true); res.StatusCode != http.StatusNoContent ||
		res.Header.Get("Upload-Offset") != strconv.Itoa(len(data)) {
		t.Fatalf("last PATCH declaring the length: status %d, offset %q", res.StatusCode, res.Header.Get("Upload-Offset"))
	}
	e.checkContent(t, url, data)
}
