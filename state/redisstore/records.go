package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/tusgate/tusgate/state"
)

// Create stores u atomically; ErrExists if the ID is taken.
func (s *Store) Create(ctx context.Context, u *state.Upload) error {
	if !validID(u.ID) {
		return fmt.Errorf("redisstore: create: invalid upload ID %q", u.ID)
	}
	fields, err := encodeRecord(u)
	if err != nil {
		return err
	}
	k := s.keysFor(u.ID)
	args := append([]any{s.opts.ExpiryGrace.Milliseconds(), s.opts.Retention.Milliseconds()}, fields...)
	keys := []string{k.record, k.manifest, k.fence}

	var index *state.Change
	if !u.Finished && !u.ExpiresAt.IsZero() {
		index = &state.Change{ExpiresAt: &u.ExpiresAt}
	}
	res, err := s.runIndexed(ctx, s.scripts.create, keys, args, u.ID, index)
	if err != nil {
		return s.fail("create "+u.ID, err)
	}
	if res == 0 {
		return fmt.Errorf("redisstore: create %s: %w", u.ID, state.ErrExists)
	}
	return nil
}

// Get reads the record and whether a lease is held, in one round trip.
func (s *Store) Get(ctx context.Context, id string) (*state.Upload, error) {
	if !validID(id) {
		return nil, invalidID(id)
	}
	k := s.keysFor(id)
	// Lock first: Redis runs the two in order (other clients' scripts may
	// run between them), and a lock seen free cannot have committed
	// anything the record read then misses; the other order could pair an
	// old offset with a lock released meanwhile.
	var lock *redis.StringCmd
	var hash *redis.MapStringStringCmd
	_, _ = s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		lock = p.Get(ctx, k.lock)
		hash = p.HGetAll(ctx, k.record)
		return nil
	})
	// Pipelined reports only the first failure, and GET of a free lock
	// always fails with redis.Nil: check each command, so a failed HGETALL
	// is an outage, not a missing upload.
	if err := hash.Err(); err != nil {
		return nil, s.fail("get "+id, err)
	}
	if err := lock.Err(); err != nil && !errors.Is(err, redis.Nil) {
		return nil, s.fail("get "+id, err)
	}
	rec := hash.Val()
	if len(rec) == 0 {
		return nil, fmt.Errorf("redisstore: get %s: %w", id, state.ErrNotFound)
	}
	u, err := decodeRecord(rec)
	if err != nil {
		return nil, err
	}
	if held := lock.Val(); held != "" {
		u.Locked, u.Holder = true, holderName(held)
	}
	return u, nil
}

// existsThenHash reads, in one round trip and in this order, whether key
// exists and the hash at hashKey.
func (s *Store) existsThenHash(ctx context.Context, key, hashKey string) (bool, map[string]string, error) {
	var exists *redis.IntCmd
	var hash *redis.MapStringStringCmd
	_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		exists = p.Exists(ctx, key)
		hash = p.HGetAll(ctx, hashKey)
		return nil
	})
	if err != nil {
		return false, nil, err
	}
	return exists.Val() == 1, hash.Val(), nil
}

// Parts returns the manifest ordered by part number.
func (s *Store) Parts(ctx context.Context, id string) ([]state.Part, error) {
	if !validID(id) {
		return nil, invalidID(id)
	}
	k := s.keysFor(id)
	exists, manifest, err := s.existsThenHash(ctx, k.record, k.manifest)
	if err != nil {
		return nil, s.fail("parts of "+id, err)
	}
	if !exists {
		return nil, fmt.Errorf("redisstore: parts of %s: %w", id, state.ErrNotFound)
	}
	return decodeManifest(manifest)
}

// Commit applies ch atomically if tok holds the upload's lock and the stored
// offset is expect.
func (s *Store) Commit(ctx context.Context, id string, tok state.Token, expect int64, ch state.Change) error {
	if !validID(id) {
		return invalidID(id)
	}
	k := s.keysFor(id)
	args, err := s.commitArgs(tok, expect, ch)
	if err != nil {
		return err
	}
	var index *state.Change
	if ch.ExpiresAt != nil && !ch.ExpiresAt.IsZero() && !ch.Finished {
		index = &ch
	}
	res, err := s.runIndexed(ctx, s.scripts.commit, []string{k.record, k.manifest, k.lock, k.fence}, args, id, index)
	if err != nil {
		return s.fail("commit "+id, err)
	}
	if err := scriptResult("commit "+id, res); err != nil {
		return err
	}
	if ch.Finished || (ch.ExpiresAt != nil && ch.ExpiresAt.IsZero()) {
		// No longer expires: drop it from the index. Best effort, as
		// Expired drops such entries too.
		if err := s.client.ZRem(ctx, s.expiryKey(), id).Err(); err != nil {
			s.log.WarnContext(ctx, "expiry index update failed", "upload", id, "err", err)
		}
	}
	return nil
}

func (s *Store) commitArgs(tok state.Token, expect int64, ch state.Change) ([]any, error) {
	length, expires := "", ""
	if ch.Length != nil {
		length = strconv.FormatInt(*ch.Length, 10)
	}
	if ch.ExpiresAt != nil {
		expires = timeField(*ch.ExpiresAt)
	}
	args := make([]any, 0, 9+2*len(ch.Handle)+2*len(ch.Parts))
	args = append(args,
		uint64(tok), expect, ch.Offset, length, expires, boolField(ch.Finished),
		s.opts.ExpiryGrace.Milliseconds(), s.opts.Retention.Milliseconds(), len(ch.Handle))
	for _, name := range sortedKeys(ch.Handle) {
		args = append(args, name, ch.Handle[name])
	}
	for _, p := range ch.Parts {
		enc, err := encodePart(p)
		if err != nil {
			return nil, err
		}
		args = append(args, p.Number, enc)
	}
	return args, nil
}

// Delete removes the record and its manifest if tok is current.
func (s *Store) Delete(ctx context.Context, id string, tok state.Token) error {
	if !validID(id) {
		return invalidID(id)
	}
	k := s.keysFor(id)
	res, err := s.scripts.delete.Run(ctx, s.client,
		[]string{k.record, k.manifest, k.lock, k.fence},
		uint64(tok), s.opts.Retention.Milliseconds()).Int64()
	if err != nil {
		return s.fail("delete "+id, err)
	}
	if err := scriptResult("delete "+id, res); err != nil {
		return err
	}
	if err := s.client.ZRem(ctx, s.expiryKey(), id).Err(); err != nil {
		s.log.WarnContext(ctx, "expiry index update failed", "upload", id, "err", err)
	}
	return nil
}

// Stop marks an unfinished upload stopped; it needs no lease (see
// state.Store).
func (s *Store) Stop(ctx context.Context, id, reason string) error {
	if !validID(id) {
		return invalidID(id)
	}
	if len(reason) > state.MaxStopReason {
		return fmt.Errorf("redisstore: stop %s: reason longer than %d bytes", id, state.MaxStopReason)
	}
	res, err := s.scripts.stop.Run(ctx, s.client, []string{s.keysFor(id).record}, reason).Int64()
	if err != nil {
		return s.fail("stop "+id, err)
	}
	return scriptResult("stop "+id, res)
}

// runIndexed runs a record script and, when index carries an expiry, adds
// the upload to the expiry index in the same round trip. ZADD LT only ever
// moves an entry earlier, so an index write whose script was refused does
// no harm: Expired re-checks the record and reschedules the entry.
func (s *Store) runIndexed(ctx context.Context, sc *redis.Script, keys []string, args []any, id string, index *state.Change) (int64, error) {
	if index == nil {
		return sc.Run(ctx, s.client, keys, args...).Int64()
	}
	var res *redis.Cmd
	var zadd *redis.IntCmd
	// Each command carries its own error; they are checked below.
	_, _ = s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		res = sc.EvalSha(ctx, p, keys, args...)
		zadd = p.ZAddLT(ctx, s.expiryKey(), redis.Z{Score: unixMilli(*index.ExpiresAt), Member: id})
		return nil
	})
	if redis.HasErrorPrefix(res.Err(), "NOSCRIPT") {
		// The server lost its script cache (restart): run the script alone;
		// the index entry is written already.
		res = sc.Run(ctx, s.client, keys, args...)
	}
	if err := res.Err(); err != nil {
		return 0, err
	}
	if err := zadd.Err(); err != nil {
		// The script applied, so this is success: the record is the truth.
		s.log.WarnContext(ctx, "expiry index update failed", "upload", id, "err", err)
	}
	return res.Int64()
}

func scriptResult(op string, res int64) error {
	switch res {
	case 1:
		return nil
	case resNotFound:
		return fmt.Errorf("redisstore: %s: %w", op, state.ErrNotFound)
	case resFenced:
		return fmt.Errorf("redisstore: %s: %w", op, state.ErrFenced)
	case resConflict:
		return fmt.Errorf("redisstore: %s: %w", op, state.ErrConflict)
	default:
		return fmt.Errorf("redisstore: %s: unexpected script result %d", op, res)
	}
}
