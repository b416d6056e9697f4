package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tusgate/tusgate/state"
)

// maxIDLen keeps IDs within the 2-byte length prefix of manifest keys.
const maxIDLen = 1024

// Create stores a new record in one durable transaction.
func (s *Store) Create(ctx context.Context, u *state.Upload) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if u.ID == "" || len(u.ID) > maxIDLen {
		return fmt.Errorf("boltstore: invalid upload ID of %d bytes", len(u.ID))
	}
	val, err := encodeUpload(u)
	if err != nil {
		return fmt.Errorf("boltstore: %w", err)
	}
	return s.update(func(tx *bolt.Tx) error {
		uploads := tx.Bucket(bucketUploads)
		if uploads.Get([]byte(u.ID)) != nil {
			return fmt.Errorf("boltstore: upload %s: %w", u.ID, state.ErrExists)
		}
		if err := uploads.Put([]byte(u.ID), val); err != nil {
			return err
		}
		if indexed(u) {
			return tx.Bucket(bucketExpiry).Put(expiryKey(u.ID, u.ExpiresAt), nil)
		}
		return nil
	})
}

// Get returns the record; Locked reflects the lease table at read time.
func (s *Store) Get(ctx context.Context, id string) (*state.Upload, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// The hint is sampled before the read: a lease seen as free then
	// cannot have committed anything the read misses, whereas sampling
	// after it could pair an old offset with a lease released meanwhile.
	// (It is also taken outside the read transaction: a reader must never
	// wait for mu while pinning bbolt's mmap, which a committing writer
	// holding mu may need to remap.)
	s.mu.Lock()
	locked := s.heldLocked(id, time.Now())
	s.mu.Unlock()
	var u *state.Upload
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		u, err = loadUpload(tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	u.Locked = locked
	if locked {
		u.Holder = s.name // one process owns the file
	}
	return u, nil
}

func loadUpload(tx *bolt.Tx, id string) (*state.Upload, error) {
	val := tx.Bucket(bucketUploads).Get([]byte(id))
	if val == nil {
		return nil, fmt.Errorf("boltstore: upload %s: %w", id, state.ErrNotFound)
	}
	return decodeUpload(id, val)
}

// Parts returns the manifest ordered by Number; ErrNotFound for an unknown ID.
func (s *Store) Parts(ctx context.Context, id string) ([]state.Part, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var parts []state.Part
	err := s.view(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketUploads).Get([]byte(id)) == nil {
			return fmt.Errorf("boltstore: upload %s: %w", id, state.ErrNotFound)
		}
		prefix := partsPrefix(id)
		c := tx.Bucket(bucketParts).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			p, err := decodePart(v)
			if err != nil {
				return fmt.Errorf("boltstore: upload %s: %w", id, err)
			}
			parts = append(parts, p)
		}
		return nil
	})
	return parts, err
}

// Commit applies ch with the semantics of (*state.Upload).Apply, in one
// durable transaction fenced by tok.
func (s *Store) Commit(ctx context.Context, id string, tok state.Token, expect int64, ch state.Change) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.fencedUpdate(id, tok, func(tx *bolt.Tx) error {
		u, err := loadUpload(tx, id)
		if err != nil {
			return err
		}
		if u.Offset != expect {
			return fmt.Errorf("boltstore: upload %s at offset %d, commit expected %d: %w", id, u.Offset, expect, state.ErrConflict)
		}
		oldKey, wasIndexed := expiryKey(id, u.ExpiresAt), indexed(u)
		u.Apply(ch)

		partsB := tx.Bucket(bucketParts)
		for _, p := range ch.Parts {
			val, err := encodePart(p)
			if err != nil {
				return err
			}
			if err := partsB.Put(partKey(id, p.Number), val); err != nil {
				return err
			}
		}
		expiry := tx.Bucket(bucketExpiry)
		if newKey := expiryKey(id, u.ExpiresAt); !wasIndexed || !indexed(u) || !bytes.Equal(oldKey, newKey) {
			if wasIndexed {
				if err := expiry.Delete(oldKey); err != nil {
					return err
				}
			}
			if indexed(u) {
				if err := expiry.Put(newKey, nil); err != nil {
					return err
				}
			}
		}
		val, err := encodeUpload(u)
		if err != nil {
			return err
		}
		return tx.Bucket(bucketUploads).Put([]byte(id), val)
	})
}

// Delete removes the record, its manifest and its index entry, fenced by tok.
func (s *Store) Delete(ctx context.Context, id string, tok state.Token) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.fencedUpdate(id, tok, func(tx *bolt.Tx) error {
		u, err := loadUpload(tx, id)
		if err != nil {
			return err
		}
		if indexed(u) {
			if err := tx.Bucket(bucketExpiry).Delete(expiryKey(id, u.ExpiresAt)); err != nil {
				return err
			}
		}
		// Keys are collected first: deleting under a bbolt cursor can skip
		// the following key.
		prefix := partsPrefix(id)
		partsB := tx.Bucket(bucketParts)
		var keys [][]byte
		c := partsB.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			keys = append(keys, bytes.Clone(k))
		}
		for _, k := range keys {
			if err := partsB.Delete(k); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketUploads).Delete([]byte(id))
	})
}

// Stop marks an unfinished upload stopped; it needs no lease (see
// state.Store).
func (s *Store) Stop(ctx context.Context, id, reason string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(reason) > state.MaxStopReason {
		return fmt.Errorf("boltstore: stop %s: reason longer than %d bytes", id, state.MaxStopReason)
	}
	return s.update(func(tx *bolt.Tx) error {
		u, err := loadUpload(tx, id)
		if err != nil || u.Finished || u.Stopped {
			return err
		}
		u.Stopped, u.StopReason = true, reason
		val, err := encodeUpload(u)
		if err != nil {
			return err
		}
		return tx.Bucket(bucketUploads).Put([]byte(id), val)
	})
}

// Expired walks the expiry index from the earliest entry; it never scans the
// records.
func (s *Store) Expired(ctx context.Context, now time.Time, limit int) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	nowKey := orderedInt(unixNanos(now))
	var ids []string
	err := s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketExpiry).Cursor()
		for k, _ := c.First(); k != nil && len(ids) < limit; k, _ = c.Next() {
			if len(k) < 8 || binary.BigEndian.Uint64(k) >= nowKey {
				break
			}
			ids = append(ids, string(k[8:]))
		}
		return nil
	})
	return ids, err
}
