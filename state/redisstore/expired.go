package redisstore

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tusgate/tusgate/state"
)

// maxExpiredRounds bounds how often Expired refills after dropping stale
// index entries, so one call stays short however stale the index is.
const maxExpiredRounds = 8

// Expired returns up to limit IDs of unfinished uploads whose expiry is
// before now, and of uploads marked state.TerminatedAt. Candidates come from the expiry index and are re-checked
// against their records; entries for finished, deleted or extended uploads
// are dropped or rescheduled on the way.
func (s *Store) Expired(ctx context.Context, now time.Time, limit int) ([]string, error) {
	var out []string
	for round := 0; round < maxExpiredRounds && len(out) < limit; round++ {
		want := limit - len(out)
		ids, err := s.client.ZRangeByScore(ctx, s.expiryKey(), &redis.ZRangeBy{
			Min:    "-inf",
			Max:    strconv.FormatInt(now.UnixMilli(), 10),
			Offset: int64(len(out)), // the expired ones found so far stay in the index
			Count:  int64(want),
		}).Result()
		if err != nil {
			return nil, s.fail("list expired", err)
		}
		expired, changed, err := s.verifyExpired(ctx, ids, now)
		if err != nil {
			return nil, err
		}
		out = append(out, expired...)
		if !changed || len(ids) < want {
			break // nothing moved, so the next page holds nothing new
		}
	}
	return out, nil
}

// verifyExpired checks candidates against their records, returns those
// really expired and fixes the index entries of the others.
func (s *Store) verifyExpired(ctx context.Context, ids []string, now time.Time) (expired []string, changed bool, err error) {
	if len(ids) == 0 {
		return nil, false, nil
	}
	cmds := make([]*redis.SliceCmd, len(ids))
	_, err = s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HMGet(ctx, s.keysFor(id).record, fFinished, fExpires)
		}
		return nil
	})
	if err != nil {
		return nil, false, s.fail("check expired", err)
	}
	var drop []any
	var resched []redis.Z
	for i, id := range ids {
		vals := cmds[i].Val()
		fin, _ := vals[0].(string)
		exp, _ := vals[1].(string)
		at, perr := parseTimeField(exp)
		switch {
		case !validID(id) || vals[0] == nil || (fin == "1" && !at.Equal(state.TerminatedAt)) || perr != nil || at.IsZero():
			drop = append(drop, id) // gone, finished or never expires
		case at.Before(now):
			expired = append(expired, id)
		default:
			resched = append(resched, redis.Z{Score: unixMilli(at), Member: id})
		}
	}
	if len(drop) == 0 && len(resched) == 0 {
		return expired, false, nil
	}
	_, err = s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		if len(drop) > 0 {
			p.ZRem(ctx, s.expiryKey(), drop...)
		}
		if len(resched) > 0 {
			// XX: never resurrect an entry a concurrent Delete removed.
			p.ZAddXX(ctx, s.expiryKey(), resched...)
		}
		return nil
	})
	if err != nil {
		return nil, false, s.fail("fix expiry index", err)
	}
	return expired, true, nil
}
