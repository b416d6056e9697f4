package gcsstore

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/state"
)

// NewRangeReader reads length bytes of the finished object from offset
// (length < 0: to the end) with one ranged read.
func (s *Store) NewRangeReader(ctx context.Context, u *state.Upload, offset, length int64) (io.ReadCloser, error) {
	key := s.HandleOf(u).Key
	if offset < 0 {
		return nil, fmt.Errorf("gcsstore: negative offset %d", offset)
	}
	if length == 0 {
		// A range cannot ask for nothing; still report a missing object.
		ok, err := s.d.Exists(ctx, key)
		if err == nil && !ok {
			err = &Error{Store: "gcsstore", Op: "GetObject", Status: 404, Kind: backends.ErrNotFound, Err: fmt.Errorf("no object %s", key)}
		}
		if err != nil {
			return nil, err
		}
		return io.NopCloser(strings.NewReader("")), nil
	}
	return s.d.reader(ctx, key, offset, length)
}

// PresignGet returns a V4 signed URL that reads the finished object
// directly, valid for ttl (at most 7 days; ttl <= 0 uses the presign
// option).
func (s *Store) PresignGet(_ context.Context, u *state.Upload, ttl time.Duration) (string, error) {
	if ttl <= 0 {
		ttl = s.d.cfg.PresignTTL
	}
	if ttl <= 0 || s.d.sign == nil {
		return "", ErrPresignDisabled
	}
	url, err := s.d.bucket.SignedURL(s.HandleOf(u).Key, s.d.signOptions(min(ttl, 7*24*time.Hour)))
	if err != nil {
		return "", fmt.Errorf("gcsstore: signed URL: %w", err)
	}
	return url, nil
}
