package gcsstore

import (
	"context"
	"fmt"
	"time"

	"github.com/tusgate/tusgate/state"
)

// PresignGet returns a V4 signed URL that reads the finished object
// directly, valid for ttl (at most 7 days; ttl <= 0 uses the presign
// option).
func (s *Store) PresignGet(_ context.Context, u *state.Upload, ttl time.Duration) (string, error) {
	if ttl = s.d.cfg.PresignFor(ttl); ttl <= 0 || s.d.sign == nil {
		return "", ErrPresignDisabled
	}
	url, err := s.d.bucket.SignedURL(s.HandleOf(u).Key, s.d.signOptions(ttl))
	if err != nil {
		return "", fmt.Errorf("gcsstore: signed URL: %w", err)
	}
	return url, nil
}
