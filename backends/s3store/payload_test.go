package s3store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/backends/bufpool"
	"github.com/tusgate/tusgate/backends/multipart"
	"github.com/tusgate/tusgate/state"
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

// filledBuffer is a buffer of s for the upload of h holding data, filled
// the way Write fills part buffers (digesting on receipt).
func filledBuffer(t *testing.T, s *Store, h handle, data []byte) *bufpool.Buffer {
	t.Helper()
	buf, err := s.NewBuffer(context.Background(), int64(len(data)), h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(buf.Release)
	if _, err := buf.ReadFrom(bytes.NewReader(data)); err != nil || !buf.Full() {
		t.Fatalf("fill: %v", err)
	}
	return buf
}

// The checksum and signing settings decide how often each part is read
// before and while it is sent. This measures it against the test endpoint
// (plain http) through sendPart, the function every part goes through, and
// checks the endpoint accepts each variant. Over https the SDK sends
// UNSIGNED-PAYLOAD by itself, so the WhenRequired setting reads a part once
// there; only the trailing CRC of the SDK default would add work.
func TestPayloadPasses(t *testing.T) {
	cfg := testConfig(t)
	data := randomBytes(30, 5*MiB)
	variants := []struct {
		name     string
		checksum string
		// onReceipt sends with the digest the buffer made while filling.
		onReceipt bool
		opt       func(*s3.Options)
		passes    int64
	}{
		{"SDK default (CRC32 when supported), signed", ChecksumSHA256, false, func(o *s3.Options) {
			o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenSupported
		}, 2},
		{"when_required, signed, signer hashes", ChecksumSHA256, false, nil, 2},
		{"checksum=sha256: signed, hashed on receipt", ChecksumSHA256, true, nil, 1},
		{"checksum=crc32c (default): CRC32C made on receipt", ChecksumCRC32C, true, nil, 1},
		{"checksum=none", ChecksumNone, true, nil, 1},
	}
	for _, v := range variants {
		c := cfg
		c.Checksum = v.checksum
		s := newStore(t, c, nil)
		m := newMemUpload(t, s, "passes", int64(len(data)), "")
		h := s.HandleOf(m.get())
		buf := filledBuffer(t, s, h, data)
		var pl payload
		if v.onReceipt {
			pl = s.d.payloadOf(buf)
		}
		if v.opt != nil {
			pl.opts = append(pl.opts[:len(pl.opts):len(pl.opts)], v.opt)
		}
		var read atomic.Int64
		start := time.Now()
		_, _, err := s.d.sendPart(context.Background(), h, 1, countingBody{buf.Reader(), &read}, buf.Len(), pl)
		if err != nil {
			t.Fatalf("%s: the endpoint refused the part: %v", v.name, err)
		}
		passes := read.Load() / int64(len(data))
		t.Logf("%-58s %d pass(es) over a 5 MiB part, %v", v.name, passes, time.Since(start).Round(time.Millisecond))
		if passes != v.passes || read.Load()%int64(len(data)) != 0 {
			t.Errorf("%s: read %d bytes of a %d-byte part, want %d passes", v.name, read.Load(), len(data), v.passes)
		}
		if err := s.Delete(context.Background(), m.get()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPayloadHashFromReceiptIsChecked: with checksum=sha256 the digest
// handed to the signer is what the server verifies the bytes against, so
// signing stays an integrity check. A digest that does not match the body
// is refused.
func TestPayloadHashFromReceiptIsChecked(t *testing.T) {
	cfg := testConfig(t)
	cfg.Checksum = ChecksumSHA256
	s := newStore(t, cfg, nil)
	if !s.d.signPayload {
		t.Fatalf("the test endpoint %s is plain http: payloads must be signed", cfg.Endpoint)
	}
	data := randomBytes(31, 5*MiB)
	m := newMemUpload(t, s, "hash-check", int64(len(data)), "")
	h := s.HandleOf(m.get())
	if h.Checksum != "" {
		t.Fatalf("checksum=sha256 created a multipart upload with checksum %q", h.Checksum)
	}
	buf := filledBuffer(t, s, h, data)

	other := sha256.Sum256(append([]byte{data[0] ^ 1}, data[1:]...))
	bad := payload{opts: []func(*s3.Options){withPayloadHash(hex.EncodeToString(other[:]))}}
	_, _, err := s.d.sendPart(context.Background(), h, 1, buf.Reader(), buf.Len(), bad)
	var e *Error
	if !errors.As(err, &e) || e.Code != "XAmzContentSHA256Mismatch" {
		t.Fatalf("a part whose signed payload hash does not match its bytes: %v, want XAmzContentSHA256Mismatch", err)
	}
	etag, crc, err := s.d.PutPart(context.Background(), h, 1, buf)
	if err != nil {
		t.Fatalf("the part with its own hash was refused: %v", err)
	}
	if crc != "" {
		t.Fatalf("a signed part reported CRC32C %q", crc)
	}
	ch := backends.Progress{Offset: int64(len(data)), Parts: []state.Part{{Number: 1, Size: int64(len(data)), ETag: etag}}}
	if err := m.commit(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	m.finish(t, s)
	if got := getObject(t, s, h.Key); !bytes.Equal(got, data) {
		t.Fatal("the object holds other bytes than were sent")
	}
}

// TestCRC32CFromReceiptIsChecked: with the default checksum=crc32c the
// payload is unsigned, so the CRC32C header is the bytes' only protection:
// the store must refuse a part or tail whose bytes do not match it, and
// completion must carry every part's checksum.
func TestCRC32CFromReceiptIsChecked(t *testing.T) {
	cfg := testConfig(t)
	s := newStore(t, cfg, nil)
	data := randomBytes(32, 5*MiB+17)
	m := newMemUpload(t, s, "crc-check", int64(len(data)), "")
	h := s.HandleOf(m.get())
	if h.Checksum != ChecksumCRC32C {
		t.Fatalf("default configuration created a multipart upload with checksum %q, want crc32c", h.Checksum)
	}
	buf := filledBuffer(t, s, h, data[:5*MiB])
	pl := s.d.payloadOf(buf)
	want := crc32.Checksum(data[:5*MiB], castagnoli)
	if pl.crc32c == nil || *pl.crc32c != b64crc(want) {
		t.Fatalf("payload CRC32C %v, want %s", pl.crc32c, b64crc(want))
	}

	wrong := pl
	wrong.crc32c = aws.String(b64crc(want ^ 1))
	_, _, err := s.d.sendPart(context.Background(), h, 1, buf.Reader(), buf.Len(), wrong)
	if err == nil {
		t.Fatal("the store accepted a part whose bytes do not match its CRC32C")
	}
	t.Logf("a part with a wrong CRC32C: %v", err)
	tail := filledBuffer(t, s, h, data[5*MiB:])
	tailPl := s.d.payloadOf(tail)
	tailPl.crc32c = aws.String(b64crc(crc32.Checksum(data[5*MiB:], castagnoli) ^ 1))
	if _, err := s.d.client.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: &cfg.Bucket, Key: aws.String(h.Key + ".badtail"), Body: tail.Reader(),
		ContentLength: aws.Int64(tail.Len()), ChecksumCRC32C: tailPl.crc32c,
	}, tailPl.opts...); err == nil {
		t.Fatal("the store accepted a tail whose bytes do not match its CRC32C")
	}

	etag, crc, err := s.d.PutPart(context.Background(), h, 1, buf)
	if err != nil {
		t.Fatalf("the part with its own CRC32C was refused: %v", err)
	}
	if crc != b64crc(want) {
		t.Fatalf("uploadPart reported CRC32C %q, want %q", crc, b64crc(want))
	}
	// The last part goes through a tail, as a short last body does.
	ch := backends.Progress{Offset: 5 * MiB, Parts: []state.Part{{Number: 1, Size: 5 * MiB, ETag: etag, Checksum: crc}}}
	if err := m.commit(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	m.write(t, s, data[5*MiB:])
	m.finish(t, s)
	if got := getObject(t, s, h.Key); !bytes.Equal(got, data) {
		t.Fatal("the object holds other bytes than were sent")
	}
}

func b64crc(v uint32) string {
	return base64.StdEncoding.EncodeToString([]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func TestPayloadIsSignedOnlyOnPlainHTTP(t *testing.T) {
	cases := []struct {
		endpoint string
		checksum string
		want     bool
	}{
		{"", ChecksumCRC32C, false}, // AWS: https
		{"https://s3.example.com", ChecksumSHA256, false},
		{"http://127.0.0.1:9000", ChecksumSHA256, true},
		{"HTTP://127.0.0.1:9000", ChecksumSHA256, true},
		// Bodies without a CRC32C (concatenation parts) stay signed.
		{"http://127.0.0.1:9000", ChecksumCRC32C, true},
		{"http://127.0.0.1:9000", ChecksumNone, false},
	}
	for _, c := range cases {
		if got := signsPayload(Config{Endpoint: c.endpoint, StoreOptions: multipart.StoreOptions{Checksum: c.checksum}}); got != c.want {
			t.Errorf("endpoint %q checksum=%s: signed %v, want %v", c.endpoint, c.checksum, got, c.want)
		}
	}
}
