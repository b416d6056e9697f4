package s3store

import (
	"context"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// countingBody is a seekable part body that counts the bytes read from it,
// i.e. how many passes the SDK makes over a part.
type countingBody struct {
	r *io.SectionReader
	n *atomic.Int64
}

func (c countingBody) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (c countingBody) Seek(off int64, whence int) (int64, error) { return c.r.Seek(off, whence) }

// The checksum and signing settings decide how often each part is read
// before and while it is sent. This measures it against the test endpoint
// (plain http) and checks the endpoint accepts each variant. Over https the
// SDK sends UNSIGNED-PAYLOAD by itself, so the WhenRequired setting reads a
// part once there; only the trailing CRC of the SDK default would add work.
func TestPayloadPasses(t *testing.T) {
	cfg := testConfig(t)
	data := randomBytes(30, 5*MiB)
	variants := []struct {
		name     string
		unsigned bool
		opt      func(*s3.Options)
		passes   int64
	}{
		{"SDK default (CRC32 when supported), signed", false, func(o *s3.Options) {
			o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenSupported
		}, 2},
		{"when_required, signed (tusgate default on http)", false, nil, 2},
		{"when_required, unsigned_payload=true", true, nil, 1},
	}
	for _, v := range variants {
		c := cfg
		c.UnsignedPayload = v.unsigned
		s := newStore(t, c, nil)
		m := newMemUpload(t, s, "passes", int64(len(data)), "")
		h := handleOf(c, m.get())
		opts := append([]func(*s3.Options){}, s.bodyOpts...)
		if v.opt != nil {
			opts = append(opts, v.opt)
		}
		var read atomic.Int64
		start := time.Now()
		_, err := s.client.UploadPart(context.Background(), &s3.UploadPartInput{
			Bucket: &c.Bucket, Key: &h.key, UploadId: &h.uploadID, PartNumber: aws.Int32(1),
			Body:          countingBody{io.NewSectionReader(bytesReaderAt(data), 0, int64(len(data))), &read},
			ContentLength: aws.Int64(int64(len(data))),
		}, opts...)
		if err != nil {
			t.Fatalf("%s: the endpoint refused the part: %v", v.name, err)
		}
		passes := read.Load() / int64(len(data))
		t.Logf("%-48s %d pass(es) over a 5 MiB part, %v", v.name, passes, time.Since(start).Round(time.Millisecond))
		if passes != v.passes || read.Load()%int64(len(data)) != 0 {
			t.Errorf("%s: read %d bytes of a %d-byte part, want %d passes", v.name, read.Load(), len(data), v.passes)
		}
		if err := s.Delete(context.Background(), m.get()); err != nil {
			t.Fatal(err)
		}
	}
}

type bytesReaderAt []byte

func (b bytesReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(b)) {
		return 0, io.EOF
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
