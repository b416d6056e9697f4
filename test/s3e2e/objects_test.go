package s3e2e

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/tusgate/tusgate/test/e2e"
)

// metadataHeader is the Upload-Metadata of the size tests and the object
// attributes it must give in the bucket.
var (
	metadataHeader = http.Header{"Upload-Metadata": {"filename " + b64("report 1.csv") + ",filetype " + b64("text/csv")}}
	wantType       = "text/csv"
	wantDisp       = `attachment; filename="report 1.csv"`
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// TestBoundarySizesReachTheBucketIntact uploads sizes around the 5 MiB
// part size, in one PATCH and split in two (so a tail is stored and joined
// later), and reads each object back through the gateway and directly from
// the bucket: same SHA-256, Content-Type and Content-Disposition from the
// metadata, and nothing but the object left under its key.
func TestBoundarySizesReachTheBucketIntact(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.start(t)
	sizes := []int{0, 1, partSize - 1, partSize, partSize + 1}
	for i, size := range sizes {
		for _, split := range []bool{false, true} {
			if split && size < 2 {
				continue
			}
			name := fmt.Sprintf("%d bytes in one PATCH", size)
			if split {
				name = fmt.Sprintf("%d bytes in two PATCHes", size)
			}
			t.Run(name, func(t *testing.T) {
				data := sourceData(size, uint64(i+1))
				url := e2e.Create(t, p.URL, int64(size), metadataHeader)
				cuts := []int{0, size}
				if split {
					cuts = []int{0, size / 2, size}
				}
				for j := 1; j < len(cuts) && size > 0; j++ {
					got := e2e.Patch(t, url, int64(cuts[j-1]), data[cuts[j-1]:cuts[j]])
					if got != int64(cuts[j]) {
						t.Fatalf("PATCH %d: Upload-Offset %d, want %d", j, got, cuts[j])
					}
				}
				if got := e2e.Offset(t, url); got != int64(size) {
					t.Fatalf("HEAD: Upload-Offset %d, want %d", got, size)
				}
				out := e.checkContent(t, url, data)
				if got := aws.ToString(out.ContentType); got != wantType {
					t.Errorf("object Content-Type %q, want %q", got, wantType)
				}
				if got := aws.ToString(out.ContentDisposition); got != wantDisp {
					t.Errorf("object Content-Disposition %q, want %q", got, wantDisp)
				}
				if got := out.Metadata["filename"]; got != "report 1.csv" {
					t.Errorf("object user metadata filename %q, want %q (all: %v)", got, "report 1.csv", out.Metadata)
				}
				// The finished object is all that remains: no tail, no
				// pending multipart upload.
				if keys := e.keysUnder(t, e.key(url)); !slices.Equal(keys, []string{e.key(url)}) {
					t.Errorf("objects under %s after finishing: %v, want only the object", e.key(url), keys)
				}
				if mpu := e.multipartUnder(t, e.key(url)); len(mpu) != 0 {
					t.Errorf("multipart uploads left after finishing: %v", mpu)
				}
			})
		}
	}
}

// TestConcatenationJoinsPartialsInTheBucket concatenates partials of
// 5 MiB+3 bytes, 2 bytes and 5 MiB (parts that straddle partials, and a
// partial below the minimum part size) into a final upload whose object
// holds exactly the partials' bytes in order.
func TestConcatenationJoinsPartialsInTheBucket(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.start(t)
	sizes := []int{partSize + 3, 2, partSize}
	var urls []string
	var all []byte
	for i, size := range sizes {
		data := sourceData(size, uint64(100+i))
		url := e2e.Create(t, p.URL, int64(size), http.Header{"Upload-Concat": {"partial"}})
		if got := e2e.Patch(t, url, 0, data); got != int64(size) {
			t.Fatalf("partial %d: Upload-Offset %d, want %d", i, got, size)
		}
		urls = append(urls, url)
		all = append(all, data...)
	}
	r := send(http.MethodPost, p.URL, http.Header{"Upload-Concat": {"final;" + strings.Join(urls, " ")}}, nil)
	if r.err != nil || r.status != http.StatusCreated {
		t.Fatalf("POST final: status %d, err %v: %s", r.status, r.err, r.body)
	}
	final := r.header.Get("Location")
	if final == "" {
		t.Fatal("POST final: 201 without Location")
	}
	res := e2e.Head(t, final)
	if res.StatusCode != http.StatusOK || res.Header.Get("Upload-Offset") != fmt.Sprint(len(all)) ||
		res.Header.Get("Upload-Length") != fmt.Sprint(len(all)) {
		t.Fatalf("HEAD final: status %d, offset %q, length %q; want 200 with both %d",
			res.StatusCode, res.Header.Get("Upload-Offset"), res.Header.Get("Upload-Length"), len(all))
	}
	e.checkContent(t, final, all)
	// The partials are still readable and unchanged.
	for i, url := range urls {
		sum, n, _ := e.objectSHA256(t, e.key(url))
		want := all[sum256Offset(sizes, i):sum256Offset(sizes, i+1)]
		if n != int64(len(want)) || !bytes.Equal(sum[:], sha(want)) {
			t.Errorf("partial %d object changed: %d bytes, want %d", i, n, len(want))
		}
	}
}

func sum256Offset(sizes []int, i int) int {
	off := 0
	for _, s := range sizes[:i] {
		off += s
	}
	return off
}
