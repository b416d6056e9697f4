package s3store

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/tusgate/tusgate/state"
)

// PresignGet returns a URL that downloads the finished object directly from
// the store, valid for ttl (at most 7 days). ttl <= 0 uses the presign
// option; when that is unset too it fails with ErrPresignDisabled.
func (s *Store) PresignGet(ctx context.Context, u *state.Upload, ttl time.Duration) (string, error) {
	if ttl = s.d.cfg.PresignFor(ttl); ttl <= 0 {
		return "", ErrPresignDisabled
	}
	key := s.HandleOf(u).Key
	req, err := s.d.presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: &s.d.cfg.Bucket, Key: &key},
		s3.WithPresignExpires(ttl))
	if err != nil {
		return "", classify("PresignGetObject", err)
	}
	return req.URL, nil
}
