package s3store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"hash"
	"hash/crc32"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/tusgate/tusgate/backends/bufpool"
	"github.com/tusgate/tusgate/state"
)

// Digest is what a buffer for h hashes as it fills: CRC32C when h's
// multipart upload expects it, SHA-256 when the payload is signed;
// payloadOf hands the digest to the request, so no second pass over the
// part is made before sending it.
func (s *driver) Digest(h handle) hash.Hash {
	switch {
	case h.Checksum == ChecksumCRC32C:
		return crc32.New(castagnoli)
	case s.signPayload:
		return sha256.New()
	}
	return nil
}

// PutPart sends buf as part num. The body is seekable, so retries rewind
// it; its digest comes with the buffer (payloadOf). It returns the part's
// ETag and CRC32C ("" unless the upload has checksums).
func (s *driver) PutPart(ctx context.Context, h handle, num int, buf *bufpool.Buffer) (etag, crc string, err error) {
	return s.sendPart(ctx, h, num, buf.Reader(), buf.Len(), s.payloadOf(buf))
}

// sendPart is PutPart for any seekable body.
func (s *driver) sendPart(ctx context.Context, h handle, num int, body io.ReadSeeker, size int64,
	pl payload,
) (etag, crc string, err error) {
	in := &s3.UploadPartInput{
		Bucket:         &s.cfg.Bucket,
		Key:            &h.Key,
		UploadId:       &h.UploadID,
		PartNumber:     aws.Int32(int32(num)),
		Body:           body,
		ContentLength:  aws.Int64(size),
		ChecksumCRC32C: pl.crc32c,
	}
	out, err := do(ctx, s, func(ctx context.Context) (*s3.UploadPartOutput, error) {
		return s.client.UploadPart(ctx, in, pl.opts...)
	})
	if err != nil {
		return "", "", classify("UploadPart", err)
	}
	return aws.ToString(out.ETag), aws.ToString(pl.crc32c), nil
}

// PutObject stores buf as a whole object (a tail).
func (s *driver) PutObject(ctx context.Context, key string, buf *bufpool.Buffer) error {
	pl := s.payloadOf(buf)
	return s.putObject(ctx, &s3.PutObjectInput{
		Bucket:         &s.cfg.Bucket,
		Key:            &key,
		Body:           buf.Reader(),
		ContentLength:  aws.Int64(buf.Len()),
		ChecksumCRC32C: pl.crc32c,
	}, pl.opts...)
}

func (s *driver) putObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) error {
	_, err := do(ctx, s, func(ctx context.Context) (*s3.PutObjectOutput, error) {
		return s.client.PutObject(ctx, in, opts...)
	})
	return classify("PutObject", err)
}

// putEmpty stores the object of a zero-length upload: S3 cannot complete a
// multipart upload without parts.
func (s *driver) putEmpty(ctx context.Context, u *state.Upload, key string) error {
	a := attrsFor(u)
	in := &s3.PutObjectInput{
		Bucket:        &s.cfg.Bucket,
		Key:           &key,
		Body:          bytes.NewReader(nil),
		ContentLength: aws.Int64(0),
		ContentType:   aws.String(a.ContentType),
		Metadata:      a.Metadata,
	}
	if a.ContentDisposition != "" {
		in.ContentDisposition = aws.String(a.ContentDisposition)
	}
	return s.putObject(ctx, in)
}

// OpenObject starts a ranged GET of length bytes from offset (length < 0:
// to the end); the caller reads and closes the body.
func (s *driver) OpenObject(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	rng := fmt.Sprintf("bytes=%d-", offset)
	if length > 0 {
		rng += fmt.Sprint(offset + length - 1)
	}
	out, err := do(ctx, s, func(ctx context.Context) (*s3.GetObjectOutput, error) {
		return s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.cfg.Bucket, Key: &key, Range: &rng})
	})
	if err != nil {
		return nil, classify("GetObject", err)
	}
	return out.Body, nil
}

// DeleteObject removes key; a missing object is not an error.
func (s *driver) DeleteObject(ctx context.Context, key string) error {
	if key == "" {
		return nil
	}
	_, err := do(ctx, s, func(ctx context.Context) (*s3.DeleteObjectOutput, error) {
		return s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.cfg.Bucket, Key: &key})
	})
	if err := classify("DeleteObject", err); err != nil && !isNotFound(err) {
		return err
	}
	return nil
}

// ListObjects returns the keys under prefix.
func (s *driver) ListObjects(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket: &s.cfg.Bucket, Prefix: aws.String(prefix),
	})
	for p.HasMorePages() {
		page, err := do(ctx, s, func(ctx context.Context) (*s3.ListObjectsV2Output, error) { return p.NextPage(ctx) })
		if err != nil {
			return nil, classify("ListObjectsV2", err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys, nil
}

// Exists reports whether the object key exists.
func (s *driver) Exists(ctx context.Context, key string) (bool, error) {
	_, err := do(ctx, s, func(ctx context.Context) (*s3.HeadObjectOutput, error) {
		return s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.cfg.Bucket, Key: &key})
	})
	err = classify("HeadObject", err)
	if isNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// Abort aborts the multipart upload of h.
func (s *driver) Abort(ctx context.Context, h handle) error {
	_, err := do(ctx, s, func(ctx context.Context) (*s3.AbortMultipartUploadOutput, error) {
		return s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
			Bucket: &s.cfg.Bucket, Key: &h.Key, UploadId: &h.UploadID,
		})
	})
	if err := classify("AbortMultipartUpload", err); err != nil && !isNotFound(err) {
		return err
	}
	return nil
}

// Complete assembles the object. An empty upload is a plain empty object
// (S3 cannot complete a multipart upload without parts). When S3 no longer
// knows the upload, an earlier attempt (or a retry the SDK made) may have
// completed it: the object's existence decides.
func (s *driver) Complete(ctx context.Context, h handle, u *state.Upload, parts []state.Part) error {
	if len(parts) == 0 {
		if err := s.putEmpty(ctx, u, h.Key); err != nil {
			return err
		}
		return s.Abort(ctx, h)
	}
	done := make([]types.CompletedPart, len(parts))
	for i, p := range parts {
		done[i] = types.CompletedPart{PartNumber: aws.Int32(int32(p.Number)), ETag: aws.String(p.ETag)}
		if h.Checksum == ChecksumCRC32C {
			done[i].ChecksumCRC32C = aws.String(p.Checksum)
		}
	}
	in := &s3.CompleteMultipartUploadInput{
		Bucket:          &s.cfg.Bucket,
		Key:             &h.Key,
		UploadId:        &h.UploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done},
	}
	_, err := do(ctx, s, func(ctx context.Context) (*s3.CompleteMultipartUploadOutput, error) {
		return s.client.CompleteMultipartUpload(ctx, in)
	})
	err = classify("CompleteMultipartUpload", err)
	if isNotFound(err) {
		if ok, herr := s.Exists(ctx, h.Key); herr == nil && ok {
			return nil
		}
	}
	return err
}
