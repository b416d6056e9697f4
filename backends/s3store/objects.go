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
// rewind it; the payload hash comes with the buffer (bodyOptions).
func (s *Store) uploadPart(ctx context.Context, h handle, num int, buf *bufpool.Buffer) (string, error) {
	return s.sendPart(ctx, h, num, buf.Reader(), buf.Len(), s.bodyOptions(buf))
}

// sendPart is uploadPart for any seekable body.
func (s *Store) sendPart(ctx context.Context, h handle, num int, body io.ReadSeeker, size int64,
	opts []func(*s3.Options),
) (string, error) {
	out, err := s.client.UploadPart(ctx, &s3.UploadPartInput{
		Bucket:        &s.cfg.Bucket,
		Key:           &h.key,
		UploadId:      &h.uploadID,
		PartNumber:    aws.Int32(int32(num)),
		Body:          body,
		ContentLength: aws.Int64(size),
	}, opts...)
	if err != nil {
		return "", classify("UploadPart", err)
	}
	return aws.ToString(out.ETag), nil
}

// putBuffer stores buf as a whole object (a tail).
func (s *Store) putBuffer(ctx context.Context, key string, buf *bufpool.Buffer) error {
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        &s.cfg.Bucket,
		Key:           &key,
		Body:          buf.Reader(),
		ContentLength: aws.Int64(buf.Len()),
	}, s.bodyOptions(buf)...)
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
	_, err := s.client.PutObject(ctx, in)
	return classify("PutObject", err)
}

// readRange appends size bytes of key from offset to buf.
func (s *Store) readRange(ctx context.Context, key string, offset, size int64, buf *bufpool.Buffer) error {
	if size == 0 {
		return nil
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: &s.cfg.Bucket,
		Key:    &key,
		Range:  aws.String(fmt.Sprintf("bytes=%d-%d", offset, offset+size-1)),
	})
	if err != nil {
		return classify("GetObject", err)
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

func (s *Store) deleteObject(ctx context.Context, key string) error {
	if key == "" {
		return nil
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.cfg.Bucket, Key: &key})
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
	_, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.cfg.Bucket, Key: &key})
	err = classify("HeadObject", err)
	if isNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

func (s *Store) abort(ctx context.Context, h handle) error {
	_, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket: &s.cfg.Bucket, Key: &h.key, UploadId: &h.uploadID,
	})
	if err := classify("AbortMultipartUpload", err); err != nil && !isNotFound(err) {
		return err
	}
	return nil
}
