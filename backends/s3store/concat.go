package s3store

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/tusgate/tusgate/backends/multipart"
)

// copyRangeMin: S3 copies a byte range of a source only when the source is
// larger than 5 MB; smaller sources are copied whole or read.
const copyRangeMin = 5 * MiB

// CopyPart copies a byte range of a finished object into part num with
// UploadPartCopy.
func (s *driver) CopyPart(ctx context.Context, h handle, num int, seg multipart.Segment) (string, error) {
	in := &s3.UploadPartCopyInput{
		Bucket:     &s.cfg.Bucket,
		Key:        &h.Key,
		UploadId:   &h.UploadID,
		PartNumber: aws.Int32(int32(num)),
		CopySource: aws.String(copySource(s.cfg.Bucket, seg.Key)),
	}
	if !seg.Whole {
		in.CopySourceRange = aws.String(fmt.Sprintf("bytes=%d-%d", seg.Off, seg.Off+seg.Len-1))
	}
	out, err := do(ctx, s, func(ctx context.Context) (*s3.UploadPartCopyOutput, error) {
		return s.client.UploadPartCopy(ctx, in)
	})
	if err != nil {
		return "", classify("UploadPartCopy", err)
	}
	if out.CopyPartResult == nil || aws.ToString(out.CopyPartResult.ETag) == "" {
		return "", fmt.Errorf("s3store: UploadPartCopy of part %d returned no ETag", num)
	}
	return aws.ToString(out.CopyPartResult.ETag), nil
}

// copySource is "bucket/key" with the key URL-encoded, as x-amz-copy-source
// wants it.
func copySource(bucket, key string) string {
	segs := strings.Split(key, "/")
	for i, seg := range segs {
		segs[i] = url.PathEscape(seg)
	}
	return bucket + "/" + strings.Join(segs, "/")
}
