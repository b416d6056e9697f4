package abuse

import (
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/tusgate/tusgate/test/e2e"
)

// refusedPOST sends a POST that must be refused with want and checks that
// nothing was created: no Location, no upload counted, no data file.
func refusedPOST(t *testing.T, f *fileEnv, what string, want int, h http.Header) {
	t.Helper()
	refusedBy(t, f, what, want, func() result { return send(t, http.MethodPost, f.p.URL, h, nil) })
}

// refusedBy runs a request that must be refused with want and checks that
// nothing was created for it: no Location, no new upload counted, no new
// data file.
func refusedBy(t *testing.T, f *fileEnv, what string, want int, request func() result) {
	t.Helper()
	createdBefore, filesBefore := created(t, f.p), len(f.dataFiles(t))
	r := request()
	if r.status != want {
		t.Errorf("%s: status %d, want %d: %.300s", what, r.status, want, r.body)
	}
	if loc := r.header.Get("Location"); loc != "" {
		t.Errorf("%s: Location %q on a refusal", what, loc)
	}
	if n := created(t, f.p); n != createdBefore {
		t.Errorf("%s: tusgate_uploads_created_total went from %v to %v", what, createdBefore, n)
	}
	if n := len(f.dataFiles(t)); n != filesBefore {
		t.Errorf("%s: %d data files, %d before", what, n, filesBefore)
	}
}

// TestAbuse06StoredHeadersAreCapped refuses with 431 an Upload-Metadata
// over --max-metadata-size (default 4 KiB), an Upload-Concat over 256 bytes
// per allowed partial (default 100 partials) and a header block over
// --max-header-bytes (default 64 KiB), creating nothing. 200 uploads with
// the largest metadata allowed keep the bbolt file small.
func TestAbuse06StoredHeadersAreCapped(t *testing.T) {
	t.Parallel()
	f := startFile(t)

	long := metadata("filename", strings.Repeat("n", 3200)) // > 4 KiB once in base64
	refusedPOST(t, f, "Upload-Metadata of 4.3 KB", http.StatusRequestHeaderFieldsTooLarge,
		hdr("Upload-Length", "10", "Upload-Metadata", long))

	var partials []string
	for range 1000 {
		partials = append(partials, basePath(t, f.p)+unknownID())
	}
	concat := "final;" + strings.Join(partials, " ") // 40 KB, over 256 × 100
	refusedPOST(t, f, "Upload-Concat of 40 KB", http.StatusRequestHeaderFieldsTooLarge,
		hdr("Upload-Concat", concat))

	// Go's own limit on the whole header block. The server answers and
	// closes while the client is still writing, so the write is best effort
	// and the end of the response may be lost to a reset: only the status
	// counts.
	createdBefore := created(t, f.p)
	c := dialRaw(t, f.p.Addr)
	big := request(http.MethodPost, basePath(t, f.p), f.p.Addr, "Upload-Length: 10", "X-Padding: "+strings.Repeat("p", 100*KiB))
	go func() { _ = c.tryWrite([]byte(big)) }()
	if r, err := c.tryResponse(http.MethodPost); r.status != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("POST with a 100 KB header block: status %d (%v), want 431: %.200s", r.status, err, r.body)
	}
	if n := created(t, f.p); n != createdBefore {
		t.Errorf("POST with a 100 KB header block: tusgate_uploads_created_total went from %v to %v", createdBefore, n)
	}

	sizeBefore := f.stateSize(t)
	for range 200 {
		md := metadata("description", randomText(3063)) // 12 + 4084 = 4096 bytes
		if len(md) != 4*KiB {
			t.Fatalf("metadata of %d bytes, want 4096", len(md))
		}
		u := e2e.Create(t, f.p.URL, 10, hdr("Upload-Metadata", md))
		if got := e2e.Head(t, u).Header.Get("Upload-Metadata"); got != md {
			t.Fatalf("HEAD echoes %d bytes of Upload-Metadata, want the %d sent", len(got), len(md))
		}
	}
	sizeAfter := f.stateSize(t)
	t.Logf("bbolt file: %d KiB before 200 uploads with 4 KiB metadata, %d KiB after", sizeBefore/KiB, sizeAfter/KiB)
	if sizeAfter-sizeBefore >= 8*MiB {
		t.Errorf("the bbolt file grew by %d KiB, want < 8 MiB", (sizeAfter-sizeBefore)/KiB)
	}

	f.stop(t)
	if n := len(f.records(t)); n != 200 {
		t.Errorf("%d records, want the 200 accepted uploads", n)
	}
}

// TestAbuse13DuplicateHeaders refuses repeated single-valued tus headers
// (Upload-Length on POST, Upload-Offset and Upload-Checksum on PATCH) with
// 400 and no effect, and checks that CORS lets browsers read the download
// headers Content-Range and Content-Disposition.
func TestAbuse13DuplicateHeaders(t *testing.T) {
	t.Parallel()
	f := startFile(t)
	refusedPOST(t, f, "POST with two Upload-Length headers", http.StatusBadRequest,
		hdr("Upload-Length", "10", "Upload-Length", "20"))

	u := e2e.Create(t, f.p.URL, 10, nil)
	body := []byte("0123456789")
	sum := sha1.Sum(body)
	digest := "sha1 " + base64.StdEncoding.EncodeToString(sum[:])
	for _, tc := range []struct {
		what string
		h    http.Header
	}{
		{"two Upload-Offset headers", hdr("Content-Type", offsetStream, "Upload-Offset", "0", "Upload-Offset", "0")},
		{"two Upload-Checksum headers", hdr("Content-Type", offsetStream, "Upload-Offset", "0", "Upload-Checksum", digest, "Upload-Checksum", digest)},
	} {
		r := send(t, http.MethodPatch, u, tc.h, body)
		if r.status != http.StatusBadRequest {
			t.Errorf("PATCH with %s: status %d, want 400: %s", tc.what, r.status, r.body)
		}
		if off := e2e.Offset(t, u); off != 0 {
			t.Errorf("PATCH with %s moved the offset to %d", tc.what, off)
		}
	}
	if got := e2e.Patch(t, u, 0, body); got != 10 {
		t.Fatalf("PATCH: offset %d, want 10", got)
	}

	r := send(t, http.MethodGet, u, hdr("Origin", "https://app.example"), nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET with Origin: status %d, want 200", r.status)
	}
	expose := strings.Join(r.header.Values("Access-Control-Expose-Headers"), ",")
	for _, name := range []string{"Content-Range", "Content-Disposition"} {
		if !containsFold(expose, name) {
			t.Errorf("GET with Origin: Access-Control-Expose-Headers %q does not list %s", expose, name)
		}
	}
}
