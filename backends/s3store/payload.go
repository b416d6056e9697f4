package s3store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"

	"github.com/tusgate/tusgate/backends/bufpool"
)

// signsPayload reports whether requests carry a signed payload hash: on
// plain http unless unsigned_payload is set. Over https (AWS when no
// endpoint is given) the SDK sends UNSIGNED-PAYLOAD for part and object
// bodies, so nothing needs hashing.
func signsPayload(cfg Config) bool {
	return !cfg.UnsignedPayload && strings.HasPrefix(strings.ToLower(cfg.Endpoint), "http://")
}

// newBuffer reserves size bytes of the pool for bytes to be sent. When the
// payload is signed, the buffer hashes the bytes as they arrive (cache-hot)
// and the signer is handed the digest (bodyOptions), instead of reading the
// whole part again before sending it.
func (s *Store) newBuffer(ctx context.Context, size int64) (*bufpool.Buffer, error) {
	buf, err := s.pool.Get(ctx, size)
	if err != nil {
		return nil, err
	}
	if s.signPayload {
		_ = buf.HashWith(sha256.New()) // cannot fail: the buffer is empty
	}
	return buf, nil
}

// bodyOptions are the request options for sending buf.
func (s *Store) bodyOptions(buf *bufpool.Buffer) []func(*s3.Options) {
	h := buf.Hash()
	if h == nil {
		return s.bodyOpts
	}
	return append(slices.Clip(s.bodyOpts), withPayloadHash(hex.EncodeToString(h.Sum(nil))))
}

// withPayloadHash gives the SigV4 signer the payload's SHA-256 (hex). Both
// the signer's ComputePayloadHash and the checksum middleware keep a hash
// already in the context, so neither reads the body; the server still
// checks the bytes against the signed hash, as with a hash the signer made.
// It is set at Initialize so that every retry attempt carries it.
func withPayloadHash(sum string) func(*s3.Options) {
	return func(o *s3.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Initialize.Add(middleware.InitializeMiddlewareFunc("tusgatePayloadHash",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
					middleware.InitializeOutput, middleware.Metadata, error,
				) {
					return next.HandleInitialize(v4.SetPayloadHash(ctx, sum), in)
				}), middleware.After)
		})
	}
}
