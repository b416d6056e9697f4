package s3store

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/tusgate/tusgate/backends/bufpool"
	"github.com/tusgate/tusgate/state"
)

// uploadPart sends buf as part num. The body is seekable, so retries
// rewind it; its digest comes with the buffer (payloadOf). It returns the
// part's ETag and CRC32C ("" unless the upload has checksums).
func (s *Store) uploadPart(ctx context.Context, h handle, num int, buf *bufpool.Buffer) (etag, crc string, err error) {
	return s.sendPart(ctx, h, num, buf.Reader(), buf.Len(), s.payloadOf(buf))
}

// sendPart is uploadPart for any seekable body.
func (s *Store) sendPart(ctx context.Context, h handle, num int, body io.ReadSeeker, size int64,
	pl payload,
) (etag, crc string, err error) {
	in := &s3.UploadPartInput{
		Bucket:         &s.cfg.Bucket,
		Key:            &h.key,
		UploadId:       &h.uploadID,
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

// putBuffer stores buf as a whole object (a tail).
func (s *Store) putBuffer(ctx context.Context, key string, buf *bufpool.Buffer) error {
	pl := s.payloadOf(buf)
	return s.putObject(ctx, &s3.PutObjectInput{
		Bucket:         &s.cfg.Bucket,
		Key:            &key,
		Body:           buf.Reader(),
		ContentLength:  aws.Int64(buf.Len()),
		ChecksumCRC32C: pl.crc32c,
	}, pl.opts...)
}

func (s *Store) putObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) error {
	_, err := do(ctx, s, func(ctx context.Context) (*s3.PutObjectOutput, error) {
		return s.client.PutObject(ctx, in, opts...)
	})
	return classify("PutObject", err)
}

// putEmpty stores the object of a zero-length upload: S3 cannot complete a
// multipart upload without parts.
func (s *Store) putEmpty(ctx context.Context, u *state.Upload, key string) error {
	a := attrsFor(u.Metadata)
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

// readRange appends size bytes of key from offset to buf.
func (s *Store) readRange(ctx context.Context, key string, offset, size int64, buf *bufpool.Buffer) error {
	if size == 0 {
		return nil
	}
	out, err := s.getObject(ctx, key, fmt.Sprintf("bytes=%d-%d", offset, offset+size-1))
	if err != nil {
		return err
	}
	defer out.Body.Close()
	before := buf.Len()
	if _, err := buf.ReadFrom(io.LimitReader(out.Body, size)); err != nil {
		return classify("GetObject", err)
	}
	if got := buf.Len() - before; got != size {
		return fmt.Errorf("s3store: %s holds %d bytes from %d, want %d", key, got, offset, size)
	}
	return nil
}

// getObject starts a ranged GET; the caller reads and closes the body.
func (s *Store) getObject(ctx context.Context, key, rng string) (*s3.GetObjectOutput, error) {
	out, err := do(ctx, s, func(ctx context.Context) (*s3.GetObjectOutput, error) {
		return s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.cfg.Bucket, Key: &key, Range: &rng})
	})
	return out, classify("GetObject", err)
}

func (s *Store) deleteObject(ctx context.Context, key string) error {
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

// deleteQuietly is for garbage whose removal may fail without harm: it is
// retried later (stale tails, Delete's listing) or swept by the bucket's
// lifecycle rule.
func (s *Store) deleteQuietly(ctx context.Context, key string) {
	if err := s.deleteObject(ctx, key); err != nil {
		s.log.WarnContext(ctx, "could not delete object", "key", key, "err", err)
	}
}

func (s *Store) objectExists(ctx context.Context, key string) (bool, error) {
	_, err := do(ctx, s, func(ctx context.Context) (*s3.HeadObjectOutput, error) {
		return s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.cfg.Bucket, Key: &key})
	})
	err = classify("HeadObject", err)
	if isNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

func (s *Store) abort(ctx context.Context, h handle) error {
	_, err := do(ctx, s, func(ctx context.Context) (*s3.AbortMultipartUploadOutput, error) {
		return s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
			Bucket: &s.cfg.Bucket, Key: &h.key, UploadId: &h.uploadID,
		})
	})
	if err := classify("AbortMultipartUpload", err); err != nil && !isNotFound(err) {
		return err
	}
	return nil
}
