package s3store

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"hash/crc32"
	"slices"
	"strings"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"

	"github.com/tusgate/tusgate/backends/bufpool"
)

// Values of the checksum option: how part and tail bytes are protected on
// their way to the store.
const (
	// ChecksumCRC32C sends UNSIGNED-PAYLOAD with an x-amz-checksum-crc32c
	// header the store verifies; multipart uploads are created with the
	// CRC32C algorithm and completed with every part's checksum. CRC32C
	// runs in hardware, so integrity costs next to nothing.
	ChecksumCRC32C = "crc32c"
	// ChecksumSHA256 signs the payload's SHA-256 on plain http (over https
	// TLS protects the bytes and the SDK sends UNSIGNED-PAYLOAD). For
	// stores that do not know the checksum headers.
	ChecksumSHA256 = "sha256"
	// ChecksumNone sends UNSIGNED-PAYLOAD without a checksum, also on
	// plain http: only for trusted networks (loopback, a sidecar).
	ChecksumNone = "none"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// signsPayload reports whether bodies without a CRC32C (tails and parts of
// uploads created without one, assembled concatenation parts) carry a
// signed SHA-256: on plain http unless checksum=none. Over https (AWS when
// no endpoint is given) the SDK sends UNSIGNED-PAYLOAD for part and object
// bodies, so nothing needs hashing.
func signsPayload(cfg Config) bool {
	return cfg.Checksum != ChecksumNone && strings.HasPrefix(strings.ToLower(cfg.Endpoint), "http://")
}

// payload is how one request body is sent: request options, and the
// base64 CRC32C for the checksum header (nil: none).
type payload struct {
	opts   []func(*s3.Options)
	crc32c *string
}

// payloadOf is how the bytes of buf are sent, from the digest the buffer
// made while it was filled.
func (s *driver) payloadOf(buf *bufpool.Buffer) payload {
	switch d := buf.Hash().(type) {
	case hash.Hash32:
		var sum [4]byte
		binary.BigEndian.PutUint32(sum[:], d.Sum32())
		c := base64.StdEncoding.EncodeToString(sum[:])
		return payload{opts: s.unsignedOpts, crc32c: &c}
	case hash.Hash:
		return payload{opts: []func(*s3.Options){withPayloadHash(hex.EncodeToString(d.Sum(nil)))}}
	}
	if s.cfg.Checksum == ChecksumNone {
		return payload{opts: s.unsignedOpts}
	}
	return payload{} // https: the SDK sends UNSIGNED-PAYLOAD over TLS
}

// unsignedPayload makes the signer send UNSIGNED-PAYLOAD on plain http too.
func unsignedPayload(o *s3.Options) {
	o.APIOptions = append(slices.Clip(o.APIOptions), v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
}

// withPayloadHash gives the SigV4 signer the payload's SHA-256 (hex). Both
// the signer's ComputePayloadHash and the checksum middleware keep a hash
// already in the context, so neither reads the body; the server still
// checks the bytes against the signed hash, as with a hash the signer made.
// It is set at Initialize so that every retry attempt carries it.
func withPayloadHash(sum string) func(*s3.Options) {
	return func(o *s3.Options) {
		o.APIOptions = append(slices.Clip(o.APIOptions), func(st *middleware.Stack) error {
			return st.Initialize.Add(middleware.InitializeMiddlewareFunc("tusgatePayloadHash",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
					middleware.InitializeOutput, middleware.Metadata, error,
				) {
					return next.HandleInitialize(v4.SetPayloadHash(ctx, sum), in)
				}), middleware.After)
		})
	}
}
