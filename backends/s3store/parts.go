package s3store

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/tusgate/tusgate/backends/multipart"
)

// StoredParts lists the parts S3 holds for h's multipart upload, so that a
// refused completion can be checked against the manifest. A NoSuchUpload
// wraps backends.ErrNotFound.
func (s *driver) StoredParts(ctx context.Context, h handle) (map[int]multipart.StoredPart, error) {
	parts := map[int]multipart.StoredPart{}
	p := s3.NewListPartsPaginator(s.client, &s3.ListPartsInput{Bucket: &s.cfg.Bucket, Key: &h.Key, UploadId: &h.UploadID})
	for p.HasMorePages() {
		page, err := do(ctx, s, func(ctx context.Context) (*s3.ListPartsOutput, error) { return p.NextPage(ctx) })
		if err != nil {
			return nil, classify("ListParts", err)
		}
		for _, pt := range page.Parts {
			parts[int(aws.ToInt32(pt.PartNumber))] = multipart.StoredPart{ETag: aws.ToString(pt.ETag), Size: aws.ToInt64(pt.Size)}
		}
	}
	return parts, nil
}

var _ multipart.PartLister = (*driver)(nil)
