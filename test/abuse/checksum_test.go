package abuse

import (
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net/http"
	"testing"

	"github.com/tusgate/tusgate/test/e2e"
)

// TestAbuse12ChecksumEdgeCases checks that a well-formed digest of the
// wrong size for its algorithm is a checksum mismatch (460), and that a
// chunked PATCH carrying the checksum both as a header and as a trailer is
// refused (400); neither moves the offset, and the right checksum then
// works.
func TestAbuse12ChecksumEdgeCases(t *testing.T) {
	t.Parallel()
	f := startFile(t)
	body := []byte("0123456789")
	sum := sha1.Sum(body)
	digest := "sha1 " + base64.StdEncoding.EncodeToString(sum[:])
	u := e2e.Create(t, f.p.URL, int64(len(body)), nil)

	wrongSize := "sha1 " + base64.StdEncoding.EncodeToString(make([]byte, 21))
	r := send(t, http.MethodPatch, u, hdr("Content-Type", offsetStream, "Upload-Offset", "0", "Upload-Checksum", wrongSize), body)
	if r.status != 460 {
		t.Errorf("PATCH with a 21-byte sha1 digest: status %d, want 460: %s", r.status, r.body)
	}
	if off := e2e.Offset(t, u); off != 0 {
		t.Errorf("offset after the 21-byte sha1 digest = %d, want 0", off)
	}

	c := dialRaw(t, f.p.Addr)
	c.write([]byte(request(http.MethodPatch, basePath(t, f.p)+idOf(u), f.p.Addr,
		"Content-Type: "+offsetStream, "Upload-Offset: 0", "Upload-Checksum: "+digest,
		"Trailer: Upload-Checksum", "Transfer-Encoding: chunked")))
	c.write(fmt.Appendf(nil, "%x\r\n%s\r\n0\r\nUpload-Checksum: %s\r\n\r\n", len(body), body, digest))
	if r := c.response(http.MethodPatch); r.status != http.StatusBadRequest {
		t.Errorf("chunked PATCH with Upload-Checksum as header and trailer: status %d, want 400: %s", r.status, r.body)
	}
	if off := e2e.Offset(t, u); off != 0 {
		t.Errorf("offset after the header-and-trailer checksum = %d, want 0", off)
	}

	r = send(t, http.MethodPatch, u, hdr("Content-Type", offsetStream, "Upload-Offset", "0", "Upload-Checksum", digest), body)
	if r.status != http.StatusNoContent || r.header.Get("Upload-Offset") != "10" {
		t.Errorf("PATCH with the right sha1: status %d, Upload-Offset %q, want 204 and 10: %s", r.status, r.header.Get("Upload-Offset"), r.body)
	}
}
