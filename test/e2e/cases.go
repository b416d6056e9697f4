package e2e

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"testing"

	"github.com/tusgate/tusgate/test/testenv"
)

// BoundarySizes uploads through the gateway at base the sizes 0, 1 and
// around partSize (and a few parts and a bit), each in one PATCH and in
// PATCHes of 300 KiB (tails between them), with the metadata of a PDF whose
// file name has non-ASCII letters (résumé.pdf, application/pdf); check
// then looks at each upload in its subtest ("SIZE/chunks_of_CHUNK").
func BoundarySizes(t *testing.T, base string, partSize int, check func(t *testing.T, url string, data []byte)) {
	t.Helper()
	meta := http.Header{"Upload-Metadata": {"filename " + base64.StdEncoding.EncodeToString([]byte("r\u00e9sum\u00e9.pdf")) +
		",filetype " + base64.StdEncoding.EncodeToString([]byte("application/pdf"))}}
	for _, size := range []int{0, 1, partSize - 1, partSize, partSize + 1, 3*partSize + 7} {
		for _, chunk := range []int{size, 300 << 10} {
			t.Run(fmt.Sprintf("%d/chunks_of_%d", size, chunk), func(t *testing.T) {
				data := testenv.Source(size, uint64(size))
				url := Create(t, base, int64(size), meta)
				PatchChunks(t, url, data, chunk)
				check(t, url, data)
			})
		}
	}
}

// Alternate starts two replicas A and B with start, creates an upload of
// size bytes of seeded source data on A and sends it in PatchAlternating's
// seeded random chunks, each PATCH to the other replica. It returns the
// upload's URL on B and its bytes.
func Alternate(t *testing.T, start func(*testing.T, ...string) *Proc, size, partSize int, seed uint64) (onB string, data []byte) {
	t.Helper()
	a, b := start(t), start(t)
	data = testenv.Source(size, seed)
	url := Create(t, a.URL, int64(size), nil)
	n := PatchAlternating(t, []string{a.On(url), b.On(url)}, data, partSize, seed)
	t.Logf("%d PATCHes", n)
	return b.On(url), data
}
