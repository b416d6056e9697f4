package s3store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/tusgate/tusgate/backends/bufpool"
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

// filledBuffer is a buffer of s holding data, filled the way Write fills
// part buffers (hashing on receipt when s signs payloads).
func filledBuffer(t *testing.T, s *Store, data []byte) *bufpool.Buffer {
	t.Helper()
	buf, err := s.newBuffer(context.Background(), int64(len(data)))
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
		unsigned bool
		// hashOnReceipt passes the digest the buffer made while filling.
		hashOnReceipt bool
		opt           func(*s3.Options)
		passes        int64
	}{
		{"SDK default (CRC32 when supported), signed", false, false, func(o *s3.Options) {
			o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenSupported
		}, 2},
		{"when_required, signed, signer hashes", false, false, nil, 2},
		{"when_required, signed, hashed on receipt (default on http)", false, true, nil, 1},
		{"when_required, unsigned_payload=true", true, true, nil, 1},
	}
	for _, v := range variants {
		c := cfg
		c.UnsignedPayload = v.unsigned
		s := newStore(t, c, nil)
		m := newMemUpload(t, s, "passes", int64(len(data)), "")
		h := handleOf(c, m.get())
		buf := filledBuffer(t, s, data)
		if hashed := buf.Hash() != nil; hashed == v.unsigned {
			t.Fatalf("%s: buffer hashes on receipt: %v, want %v", v.name, hashed, !v.unsigned)
		}
		opts := s.bodyOpts
		if v.hashOnReceipt {
			opts = s.bodyOptions(buf)
		}
		if v.opt != nil {
			opts = append(opts[:len(opts):len(opts)], v.opt)
		}
		var read atomic.Int64
		start := time.Now()
		_, err := s.sendPart(context.Background(), h, 1, countingBody{buf.Reader(), &read}, buf.Len(), opts)
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

// TestPayloadHashFromReceiptIsChecked: the digest handed to the signer is
// what the server verifies the bytes against, so signing stays an integrity
// check. A digest that does not match the body is refused.
func TestPayloadHashFromReceiptIsChecked(t *testing.T) {
	cfg := testConfig(t)
	s := newStore(t, cfg, nil)
	if !s.signPayload {
		t.Fatalf("the test endpoint %s is plain http: payloads must be signed", cfg.Endpoint)
	}
	data := randomBytes(31, 5*MiB)
	m := newMemUpload(t, s, "hash-check", int64(len(data)), "")
	h := handleOf(cfg, m.get())
	buf := filledBuffer(t, s, data)

	other := sha256.Sum256(append([]byte{data[0] ^ 1}, data[1:]...))
	bad := append(s.bodyOpts[:len(s.bodyOpts):len(s.bodyOpts)], withPayloadHash(hex.EncodeToString(other[:])))
	_, err := s.sendPart(context.Background(), h, 1, buf.Reader(), buf.Len(), bad)
	var e *Error
	if !errors.As(err, &e) || e.Code != "XAmzContentSHA256Mismatch" {
		t.Fatalf("a part whose signed payload hash does not match its bytes: %v, want XAmzContentSHA256Mismatch", err)
	}
	etag, err := s.uploadPart(context.Background(), h, 1, buf)
	if err != nil {
		t.Fatalf("the part with its own hash was refused: %v", err)
	}
	ch := state.Change{Offset: int64(len(data)), Parts: []state.Part{{Number: 1, Size: int64(len(data)), ETag: etag}}}
	if err := m.commit(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	m.finish(t, s)
	if got := getObject(t, s, h.key); !bytes.Equal(got, data) {
		t.Fatal("the object holds other bytes than were sent")
	}
}

func TestPayloadIsSignedOnlyOnPlainHTTP(t *testing.T) {
	cases := []struct {
		endpoint string
		unsigned bool
		want     bool
	}{
		{"", false, false}, // AWS: https
		{"https://s3.example.com", false, false},
		{"http://127.0.0.1:9000", false, true},
		{"HTTP://127.0.0.1:9000", false, true},
		{"http://127.0.0.1:9000", true, false},
	}
	for _, c := range cases {
		if got := signsPayload(Config{Endpoint: c.endpoint, UnsignedPayload: c.unsigned}); got != c.want {
			t.Errorf("endpoint %q unsigned_payload=%v: signed %v, want %v", c.endpoint, c.unsigned, got, c.want)
		}
	}
}
