package s3e2e

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/tusgate/tusgate/test/e2e"
)

// compositeCRC32C is S3's checksum of a multipart object: the CRC32C of
// the parts' CRC32Cs (big-endian, concatenated), base64, "-" part count.
func compositeCRC32C(data []byte, partSize int) string {
	table := crc32.MakeTable(crc32.Castagnoli)
	var sums []byte
	n := 0
	for off := 0; off < len(data); off += partSize {
		sums = binary.BigEndian.AppendUint32(sums, crc32.Checksum(data[off:min(off+partSize, len(data))], table))
		n++
	}
	whole := binary.BigEndian.AppendUint32(nil, crc32.Checksum(sums, table))
	return fmt.Sprintf("%s-%d", base64.StdEncoding.EncodeToString(whole), n)
}

// TestObjectCarriesTheCRC32CsOfItsParts: with the default checksum=crc32c
// every part goes to the store with the CRC32C the gateway computed while
// receiving it (tails included: the first PATCH ends inside a part), and
// the finished object carries the composite checksum of exactly those
// bytes. With checksum=sha256 the object has no CRC32C.
func TestObjectCarriesTheCRC32CsOfItsParts(t *testing.T) {
	t.Parallel()
	data := sourceData(2*partSize+12345, 41)
	for _, checksum := range []string{"", "sha256"} {
		t.Run("checksum="+checksum, func(t *testing.T) {
			e := newEnv(t)
			if checksum != "" {
				e.storeOptions = url.Values{"checksum": {checksum}}
			}
			p := e.start(t)
			u := e2e.Create(t, p.URL, int64(len(data)), nil)
			cut := partSize + 100
			if got := e2e.Patch(t, u, 0, data[:cut]); got != int64(cut) {
				t.Fatalf("first PATCH: Upload-Offset %d, want %d", got, cut)
			}
			if got := e2e.Patch(t, u, int64(cut), data[cut:]); got != int64(len(data)) {
				t.Fatalf("second PATCH: Upload-Offset %d, want %d", got, len(data))
			}
			e.checkContent(t, u, data)

			ctx, cancel := context.WithTimeout(context.Background(), e2e.RequestDeadline)
			defer cancel()
			key := e.key(u)
			head, err := e.s3.HeadObject(ctx, &s3.HeadObjectInput{
				Bucket: &e.bucket, Key: &key, ChecksumMode: types.ChecksumModeEnabled,
			})
			if err != nil {
				t.Fatalf("HeadObject %s: %v", key, err)
			}
			got := aws.ToString(head.ChecksumCRC32C)
			want := compositeCRC32C(data, partSize)
			if checksum == "sha256" {
				want = ""
			}
			if got != want {
				t.Fatalf("object CRC32C %q, want %q", got, want)
			}
		})
	}
}
