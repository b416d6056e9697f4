package boltstore

import (
	"context"
	"errors"

	bolt "go.etcd.io/bbolt"

	"github.com/tusgate/tusgate/state"
)

// Active returns up to limit unfinished uploads, latest expiry (so most
// recent activity) first. It walks the expiry index that every unfinished,
// expiring upload is in, so its cost is bounded by limit, never by the
// number of records; uploads without expiry are not listed.
func (s *Store) Active(ctx context.Context, limit int) ([]*state.Upload, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var ids []string
	err := s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketExpiry).Cursor()
		for k, _ := c.Last(); k != nil && len(ids) < limit; k, _ = c.Prev() {
			if len(k) > 8 {
				ids = append(ids, string(k[8:]))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]*state.Upload, 0, len(ids))
	for _, id := range ids {
		u, err := s.Get(ctx, id)
		if errors.Is(err, state.ErrNotFound) {
			continue // deleted since the index was read
		}
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}
