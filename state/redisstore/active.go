package redisstore

import (
	"context"
	"errors"

	"github.com/tusgate/tusgate/state"
)

// Active returns up to limit unfinished uploads, latest expiry (so most
// recent activity) first, read from the expiry index: one ZREVRANGE and one
// Get per upload, bounded by limit. Stale index entries (finished or
// deleted uploads the sweeper has not dropped yet) are skipped.
func (s *Store) Active(ctx context.Context, limit int) ([]*state.Upload, error) {
	if limit <= 0 {
		return nil, nil
	}
	ids, err := s.client.ZRevRange(ctx, s.expiryKey(), 0, int64(limit-1)).Result()
	if err != nil {
		return nil, s.fail("list active", err)
	}
	out := make([]*state.Upload, 0, len(ids))
	for _, id := range ids {
		u, err := s.Get(ctx, id)
		if errors.Is(err, state.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if !u.Finished {
			out = append(out, u)
		}
	}
	return out, nil
}
