package s3store

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/state"
)

// NewRangeReader reads length bytes of the finished object from offset
// (length < 0: to the end) with one ranged GET.
func (s *Store) NewRangeReader(ctx context.Context, u *state.Upload, offset, length int64) (io.ReadCloser, error) {
	key := s.HandleOf(u).Key
	if offset < 0 {
		return nil, fmt.Errorf("s3store: negative offset %d", offset)
	}
	if length == 0 {
		// A Range header cannot ask for nothing; still report a missing object.
		if ok, err := s.d.Exists(ctx, key); err != nil || !ok {
			if err == nil {
				err = &Error{Op: "HeadObject", Code: "NotFound", Kind: backends.ErrNotFound, Err: fmt.Errorf("no object %s", key)}
			}
			return nil, err
		}
		return io.NopCloser(strings.NewReader("")), nil
	}
	rng := fmt.Sprintf("bytes=%d-", offset)
	if length > 0 {
		rng += fmt.Sprint(offset + length - 1)
	}
	out, err := s.d.getObject(ctx, key, rng)
	if err != nil {
		return nil, err
	}
	return out.Body, nil
}

// PresignGet returns a URL that downloads the finished object directly from
// the store, valid for ttl (at most 7 days). ttl <= 0 uses the presign
// option; when that is unset too it fails with ErrPresignDisabled.
func (s *Store) PresignGet(ctx context.Context, u *state.Upload, ttl time.Duration) (string, error) {
	if ttl <= 0 {
		ttl = s.d.cfg.PresignTTL
	}
	if ttl <= 0 {
		return "", ErrPresignDisabled
	}
	key := s.HandleOf(u).Key
	req, err := s.d.presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: &s.d.cfg.Bucket, Key: &key},
		s3.WithPresignExpires(min(ttl, 7*24*time.Hour)))
	if err != nil {
		return "", classify("PresignGetObject", err)
	}
	return req.URL, nil
}
