package azblobstore

import (
	"context"
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"

	"github.com/tusgate/tusgate/state"
)

// PresignGet returns a SAS URL that reads the finished blob directly, valid
// for ttl (at most 7 days; ttl <= 0 uses the presign option).
func (s *Store) PresignGet(_ context.Context, u *state.Upload, ttl time.Duration) (string, error) {
	if ttl = s.d.cfg.PresignFor(ttl); ttl <= 0 || !s.d.sharedKey {
		return "", ErrPresignDisabled
	}
	url, err := s.d.blob(s.HandleOf(u).Key).GetSASURL(sas.BlobPermissions{Read: true}, time.Now().Add(ttl), nil)
	if err != nil {
		return "", fmt.Errorf("azblobstore: SAS: %w", err)
	}
	return url, nil
}
