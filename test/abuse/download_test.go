package abuse

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// ranges is a Range header of n one-byte ranges, every other byte.
func ranges(n int) string {
	var rs []string
	for i := range n {
		rs = append(rs, fmt.Sprintf("%d-%d", 2*i, 2*i))
	}
	return "bytes=" + strings.Join(rs, ",")
}

// TestAbuse07RangesAreCapped checks that a Range header cannot multiply
// the response: above --max-ranges (default 16) the Range is ignored and
// the whole upload is sent once (200); at or below it the ranges are served
// (206 multipart); bytes=-0 is unsatisfiable (416).
func TestAbuse07RangesAreCapped(t *testing.T) {
	t.Parallel()
	f := startFile(t)
	data := bytes.Repeat([]byte("0123456789"), 400)
	u := create(t, f.p.URL, data)

	for _, tc := range []struct {
		n    int
		want int
	}{{1000, http.StatusOK}, {17, http.StatusOK}, {16, http.StatusPartialContent}, {3, http.StatusPartialContent}} {
		r := send(t, http.MethodGet, u, hdr("Range", ranges(tc.n)), nil)
		if r.status != tc.want {
			t.Errorf("GET with %d ranges: status %d, want %d", tc.n, r.status, tc.want)
			continue
		}
		if tc.want == http.StatusOK {
			if r.body != string(data) {
				t.Errorf("GET with %d ranges: %d body bytes, want the %d of the upload", tc.n, len(r.body), len(data))
			}
			continue
		}
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "multipart/byteranges") {
			t.Errorf("GET with %d ranges: Content-Type %q, want multipart/byteranges", tc.n, ct)
		}
		if got := strings.Count(r.body, "Content-Range: bytes "); got != tc.n {
			t.Errorf("GET with %d ranges: %d parts, want %d", tc.n, got, tc.n)
		}
	}
	if r := send(t, http.MethodGet, u, hdr("Range", "bytes=-0"), nil); r.status != http.StatusRequestedRangeNotSatisfiable {
		t.Errorf("GET with Range: bytes=-0: status %d, want 416", r.status)
	}
}

// TestAbuse11InlineTypesMatchExactly checks that only exact media types on
// the inline list are served inline: look-alikes by prefix are attachments.
func TestAbuse11InlineTypesMatchExactly(t *testing.T) {
	t.Parallel()
	f := startFile(t)
	for _, tc := range []struct {
		filetype, want string
	}{
		{"text/plainx", "attachment"},
		{"text/plain+html", "attachment"},
		{"image/pngx", "attachment"},
		{"text/html", "attachment"},
		{"text/plain; charset=utf-8", "inline"},
		{"image/png", "inline"},
		{"video/mp4", "inline"},
		{"application/pdf", "inline"},
	} {
		u := create(t, f.p.URL, []byte("content"), "Upload-Metadata", metadata("filetype", tc.filetype))
		r := send(t, http.MethodGet, u, nil, nil)
		if r.status != http.StatusOK {
			t.Errorf("GET of a %q upload: status %d, want 200", tc.filetype, r.status)
			continue
		}
		if cd := r.header.Get("Content-Disposition"); !strings.HasPrefix(cd, tc.want) {
			t.Errorf("GET of a %q upload: Content-Disposition %q, want %s", tc.filetype, cd, tc.want)
		}
	}
}
