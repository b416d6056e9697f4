package boltstore

import (
	"encoding/binary"

	bolt "go.etcd.io/bbolt"

	"github.com/tusgate/tusgate/state"
)

// tokenBlock is how many fencing tokens one durable reservation covers.
// Tokens come from one counter for all uploads; a restart skips the rest of
// the reserved block, so tokens keep increasing across restarts at the cost
// of one fsync per block rather than one per grant.
const tokenBlock = 1 << 16

var keyTokenReserved = []byte("token-reserved")

// tokenRange is the reserved, not yet granted tokens: next..last.
type tokenRange struct {
	next, last state.Token
}

// take returns the next token, or false when the range must be refilled.
// The caller holds mu.
func (r *tokenRange) take() (state.Token, bool) {
	if r.next == 0 || r.next > r.last {
		return 0, false
	}
	t := r.next
	r.next++
	return t, true
}

// refillTokens durably reserves another block if the current one is used up.
// It must be called without mu held (it writes to bbolt).
func (s *Store) refillTokens() error {
	s.refillMu.Lock()
	defer s.refillMu.Unlock()
	s.mu.Lock()
	spent := s.tokens.next == 0 || s.tokens.next > s.tokens.last
	s.mu.Unlock()
	if !spent {
		return nil
	}
	var from, to state.Token
	err := s.update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if v := meta.Get(keyTokenReserved); len(v) == 8 {
			from = state.Token(binary.BigEndian.Uint64(v))
		}
		to = from + tokenBlock
		return meta.Put(keyTokenReserved, binary.BigEndian.AppendUint64(nil, uint64(to)))
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.tokens = tokenRange{next: from + 1, last: to}
	s.mu.Unlock()
	return nil
}
