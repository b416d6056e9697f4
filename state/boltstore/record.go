package boltstore

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/tusgate/tusgate/state"
)

// record is the stored form of state.Upload. The raw headers are []byte
// because encoding/json would replace invalid UTF-8 in a string, and they
// must be echoed byte for byte. The ID is the key, not part of the value.
type record struct {
	Length    int64             `json:"l"`
	Offset    int64             `json:"o"`
	Metadata  []byte            `json:"m,omitempty"`
	Concat    []byte            `json:"c,omitempty"`
	Partial   bool              `json:"p,omitempty"`
	Partials  []string          `json:"ps,omitempty"`
	Owner     string            `json:"ow,omitempty"`
	CreatedAt time.Time         `json:"ct,omitzero"`
	ExpiresAt time.Time         `json:"ex,omitzero"`
	Finished  bool              `json:"f,omitempty"`
	Stopped   bool              `json:"st,omitempty"`
	Reason    string            `json:"sr,omitempty"`
	Handle    map[string]string `json:"h,omitempty"`
}

func encodeUpload(u *state.Upload) ([]byte, error) {
	r := record{
		Length:    u.Length,
		Offset:    u.Offset,
		Metadata:  []byte(u.Metadata),
		Concat:    []byte(u.Concat),
		Partial:   u.Partial,
		Partials:  u.Partials,
		Owner:     u.Owner,
		CreatedAt: utc(u.CreatedAt),
		ExpiresAt: utc(u.ExpiresAt),
		Finished:  u.Finished,
		Stopped:   u.Stopped,
		Reason:    u.StopReason,
		Handle:    u.Handle,
	}
	b, err := json.Marshal(&r)
	if err != nil {
		return nil, fmt.Errorf("encode upload %s: %w", u.ID, err)
	}
	return b, nil
}

func decodeUpload(id string, b []byte) (*state.Upload, error) {
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("decode upload %s: %w", id, err)
	}
	return &state.Upload{
		ID:         id,
		Length:     r.Length,
		Offset:     r.Offset,
		Metadata:   string(r.Metadata),
		Concat:     string(r.Concat),
		Partial:    r.Partial,
		Partials:   r.Partials,
		Owner:      r.Owner,
		CreatedAt:  r.CreatedAt,
		ExpiresAt:  r.ExpiresAt,
		Finished:   r.Finished,
		Stopped:    r.Stopped,
		StopReason: r.Reason,
		Handle:     r.Handle,
	}, nil
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}

// part is the stored form of state.Part, with short keys: a manifest may
// hold thousands of entries.
type part struct {
	Number   int    `json:"n"`
	Offset   int64  `json:"o"`
	Size     int64  `json:"s"`
	ETag     string `json:"e,omitempty"`
	Checksum string `json:"c,omitempty"`
}

func encodePart(p state.Part) ([]byte, error) {
	b, err := json.Marshal(part(p))
	if err != nil {
		return nil, fmt.Errorf("encode part %d: %w", p.Number, err)
	}
	return b, nil
}

func decodePart(b []byte) (state.Part, error) {
	var p part
	if err := json.Unmarshal(b, &p); err != nil {
		return state.Part{}, fmt.Errorf("decode part: %w", err)
	}
	return state.Part(p), nil
}

// partsPrefix is the length-prefixed ID, so no upload's keys can be taken
// for another's whatever bytes the opaque IDs contain.
func partsPrefix(id string) []byte {
	k := make([]byte, 0, 2+len(id)+8)
	k = binary.BigEndian.AppendUint16(k, uint16(len(id)))
	return append(k, id...)
}

// partKey appends the part number so a cursor walks the manifest in order.
func partKey(id string, number int) []byte {
	return binary.BigEndian.AppendUint64(partsPrefix(id), orderedInt(int64(number)))
}

// expiryKey orders the index by expiry time, then ID.
func expiryKey(id string, at time.Time) []byte {
	k := make([]byte, 0, 8+len(id))
	k = binary.BigEndian.AppendUint64(k, orderedInt(unixNanos(at)))
	return append(k, id...)
}

// orderedInt maps int64 to uint64 so big-endian byte order is numeric order.
func orderedInt(v int64) uint64 { return uint64(v) ^ (1 << 63) }

// unixNanos clamps times outside UnixNano's range (years 1678..2262).
func unixNanos(t time.Time) int64 {
	switch {
	case t.Before(time.Unix(0, math.MinInt64)):
		return math.MinInt64
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// indexed reports whether u belongs in the expiry index.
func indexed(u *state.Upload) bool {
	return (!u.Finished && !u.ExpiresAt.IsZero()) || u.Terminated()
}
