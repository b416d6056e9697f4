package boltstore

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tusgate/tusgate/state"
)

var _ state.Queue = (*Store)(nil)

var (
	// bucketQueue maps a message ID to its queued record.
	bucketQueue = []byte("queue")
	// bucketQueueDue orders message IDs by due time: 8-byte big-endian unix
	// nanoseconds, then the ID.
	bucketQueueDue = []byte("queue-due")
	// bucketQueueMeta holds the message count (key "n"), so the cap costs
	// no walk of the queue.
	bucketQueueMeta = []byte("queue-meta")
	keyQueueCount   = []byte("n")
)

// DefaultMaxQueued bounds the queue.
const DefaultMaxQueued = 100_000

type queued struct {
	Due      int64  `json:"due"`
	Attempts int    `json:"attempts"`
	Body     []byte `json:"body"`
}

func dueKey(due int64, id string) []byte {
	k := make([]byte, 8+len(id))
	binary.BigEndian.PutUint64(k, uint64(due))
	copy(k[8:], id)
	return k
}

func queueBuckets(tx *bolt.Tx) (msgs, due *bolt.Bucket, err error) {
	if msgs, err = tx.CreateBucketIfNotExists(bucketQueue); err != nil {
		return nil, nil, err
	}
	due, err = tx.CreateBucketIfNotExists(bucketQueueDue)
	return msgs, due, err
}

// Enqueue implements state.Queue.
func (s *Store) Enqueue(ctx context.Context, body []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(body) > state.MaxMessageSize {
		return fmt.Errorf("boltstore: enqueue: message of %d bytes exceeds %d", len(body), state.MaxMessageSize)
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	now := time.Now().UnixNano()
	return s.update(func(tx *bolt.Tx) error {
		msgs, due, err := queueBuckets(tx)
		if err != nil {
			return err
		}
		count, err := queueCount(tx, 1)
		if err != nil {
			return err
		}
		if count > DefaultMaxQueued {
			return fmt.Errorf("boltstore: enqueue: %w", state.ErrQueueFull)
		}
		rec, err := json.Marshal(queued{Due: now, Body: body})
		if err != nil {
			return err
		}
		if err := msgs.Put([]byte(id), rec); err != nil {
			return err
		}
		return due.Put(dueKey(now, id), nil)
	})
}

// Claim implements state.Queue.
func (s *Store) Claim(ctx context.Context, n int, hide time.Duration) ([]state.Message, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []state.Message
	now := time.Now().UnixNano()
	err := s.update(func(tx *bolt.Tx) error {
		msgs, due, err := queueBuckets(tx)
		if err != nil {
			return err
		}
		var keys [][]byte
		c := due.Cursor()
		for k, _ := c.First(); k != nil && len(keys) < n; k, _ = c.Next() {
			if len(k) < 8 || int64(binary.BigEndian.Uint64(k)) > now {
				break
			}
			keys = append(keys, append([]byte(nil), k...))
		}
		for _, k := range keys {
			id := string(k[8:])
			if err := due.Delete(k); err != nil {
				return err
			}
			raw := msgs.Get([]byte(id))
			if raw == nil {
				continue
			}
			var q queued
			if err := json.Unmarshal(raw, &q); err != nil {
				return fmt.Errorf("boltstore: queued message %s: %w", id, err)
			}
			q.Attempts++
			q.Due = now + int64(hide)
			if err := s.putQueued(msgs, due, id, q); err != nil {
				return err
			}
			out = append(out, state.Message{ID: id, Body: q.Body, Attempts: q.Attempts})
		}
		return nil
	})
	return out, err
}

func (s *Store) putQueued(msgs, due *bolt.Bucket, id string, q queued) error {
	rec, err := json.Marshal(q)
	if err != nil {
		return err
	}
	if err := msgs.Put([]byte(id), rec); err != nil {
		return err
	}
	return due.Put(dueKey(q.Due, id), nil)
}

// Ack implements state.Queue.
func (s *Store) Ack(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.update(func(tx *bolt.Tx) error {
		msgs, _, _, ok, err := unschedule(tx, id)
		if err != nil || !ok {
			return err
		}
		if _, err := queueCount(tx, -1); err != nil {
			return err
		}
		return msgs.Delete([]byte(id))
	})
}

// unschedule loads message id and takes it out of the due index; ok is
// false (and nothing changed) for an unknown message.
func unschedule(tx *bolt.Tx, id string) (msgs, due *bolt.Bucket, q queued, ok bool, err error) {
	if msgs, due, err = queueBuckets(tx); err != nil {
		return nil, nil, q, false, err
	}
	if q, ok, err = getQueued(msgs, id); err != nil || !ok {
		return nil, nil, q, false, err
	}
	return msgs, due, q, true, due.Delete(dueKey(q.Due, id))
}

// queueCount adds delta to the message count and returns the new count. A
// failed transaction (a full queue's Enqueue) rolls the change back.
func queueCount(tx *bolt.Tx, delta int64) (int64, error) {
	b, err := tx.CreateBucketIfNotExists(bucketQueueMeta)
	if err != nil {
		return 0, err
	}
	var n int64
	if v := b.Get(keyQueueCount); len(v) == 8 {
		n = int64(binary.BigEndian.Uint64(v))
	}
	n += delta
	if n < 0 {
		n = 0
	}
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], uint64(n))
	return n, b.Put(keyQueueCount, v[:])
}

// Retry implements state.Queue.
func (s *Store) Retry(ctx context.Context, id string, delay time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.update(func(tx *bolt.Tx) error {
		msgs, due, q, ok, err := unschedule(tx, id)
		if err != nil || !ok {
			return err
		}
		q.Due = time.Now().Add(delay).UnixNano()
		return s.putQueued(msgs, due, id, q)
	})
}

func getQueued(msgs *bolt.Bucket, id string) (queued, bool, error) {
	raw := msgs.Get([]byte(id))
	if raw == nil {
		return queued{}, false, nil
	}
	var q queued
	if err := json.Unmarshal(raw, &q); err != nil {
		return queued{}, false, fmt.Errorf("boltstore: queued message %s: %w", id, err)
	}
	return q, true, nil
}
