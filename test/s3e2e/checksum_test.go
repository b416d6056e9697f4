package s3e2e

import (
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"slices"
	"testing"

	"github.com/tusgate/tusgate/test/e2e"
)

func sha1Header(offset int64, b []byte) http.Header {
	sum := sha1.Sum(b)
	h := patchHeader(offset)
	h.Set("Upload-Checksum", "sha1 "+base64.StdEncoding.EncodeToString(sum[:]))
	return h
}

// TestChecksumMismatchStoresNothing sends, after 7 MiB (one part and a
// tail), a PATCH whose body does not match its Upload-Checksum and that
// crosses a part boundary: it must get 460, leave the offset and the
// committed tail as they were, and leave no tail of its own behind. A
// correct checksummed PATCH then finishes the upload to the source's bytes.
func TestChecksumMismatchStoresNothing(t *testing.T) {
	t.Parallel()
	const size = 16 * MiB
	e := newEnv(t)
	p := e.start(t)
	data := sourceData(size, 14)

	url := e2e.Create(t, p.URL, size, nil)
	if got := e2e.Patch(t, url, 0, data[:7*MiB]); got != 7*MiB {
		t.Fatalf("first PATCH: Upload-Offset %d, want %d", got, 7*MiB)
	}
	tails := e.keysUnder(t, e.key(url))
	if len(tails) != 1 {
		t.Fatalf("objects after 7 MiB: %v, want one tail", tails)
	}

	// 5 MiB: completes part 2 and leaves a new 2 MiB tail, all unverified.
	body := slices.Clone(data[7*MiB : 12*MiB])
	h := sha1Header(7*MiB, body)
	body[len(body)/2] ^= 0xff
	r := send(http.MethodPatch, url, h, body)
	if r.err != nil || r.status != 460 {
		t.Fatalf("PATCH with a wrong checksum: status %d, err %v, want 460: %s", r.status, r.err, r.body)
	}
	if got := e2e.Offset(t, url); got != 7*MiB {
		t.Fatalf("offset after the checksum mismatch: %d, want %d", got, 7*MiB)
	}
	if keys := e.keysUnder(t, e.key(url)); !slices.Equal(keys, tails) {
		t.Errorf("objects after the checksum mismatch: %v, want only the committed tail %v", keys, tails)
	}

	r = send(http.MethodPatch, url, sha1Header(7*MiB, data[7*MiB:]), data[7*MiB:])
	if r.err != nil || r.status != http.StatusNoContent {
		t.Fatalf("PATCH with the right checksum: status %d, err %v, want 204: %s", r.status, r.err, r.body)
	}
	e.checkContent(t, url, data)
}
