package azblobstore

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/state"
)

// NewRangeReader reads length bytes of the finished blob from offset
// (length < 0: to the end) with one ranged GET.
func (s *Store) NewRangeReader(ctx context.Context, u *state.Upload, offset, length int64) (io.ReadCloser, error) {
	key := s.HandleOf(u).Key
	if offset < 0 {
		return nil, fmt.Errorf("azblobstore: negative offset %d", offset)
	}
	if length == 0 {
		// A range cannot ask for nothing; still report a missing blob.
		ok, err := s.d.Exists(ctx, key)
		if err == nil && !ok {
			err = &Error{Store: "azblobstore", Op: "GetBlobProperties", Code: "BlobNotFound", Status: 404, Kind: backends.ErrNotFound,
				Err: fmt.Errorf("no blob %s", key)}
		}
		if err != nil {
			return nil, err
		}
		return io.NopCloser(strings.NewReader("")), nil
	}
	return s.d.download(ctx, key, offset, max(length, 0))
}

// PresignGet returns a SAS URL that reads the finished blob directly, valid
// for ttl (at most 7 days; ttl <= 0 uses the presign option).
func (s *Store) PresignGet(_ context.Context, u *state.Upload, ttl time.Duration) (string, error) {
	if ttl <= 0 {
		ttl = s.d.cfg.PresignTTL
	}
	if ttl <= 0 || !s.d.sharedKey {
		return "", ErrPresignDisabled
	}
	url, err := s.d.blob(s.HandleOf(u).Key).GetSASURL(sas.BlobPermissions{Read: true},
		time.Now().Add(min(ttl, 7*24*time.Hour)), nil)
	if err != nil {
		return "", fmt.Errorf("azblobstore: SAS: %w", err)
	}
	return url, nil
}
