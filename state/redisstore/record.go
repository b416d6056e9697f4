package redisstore

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tusgate/tusgate/state"
)

// Field names of the record hash. Handle entries are stored as "h:<name>" so
// a commit script can merge them with HSET/HDEL.
const (
	fID       = "id"
	fLength   = "len"
	fOffset   = "off"
	fMetadata = "meta"
	fConcat   = "concat"
	fPartial  = "partial"
	fPartials = "partials"
	fOwner    = "owner"
	fCreated  = "created"
	fExpires  = "exp"
	fFinished = "fin"
	fStopped  = "stop"
	fReason   = "stopr"
	handlePfx = "h:"
)

// timeField stores a time as unix nanoseconds; "0" is the zero time.
func timeField(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return strconv.FormatInt(t.UnixNano(), 10)
}

func parseTimeField(s string) (time.Time, error) {
	if s == "" || s == "0" {
		return time.Time{}, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(0, n), nil
}

func boolField(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// encodeRecord returns the field/value pairs of u's record hash.
func encodeRecord(u *state.Upload) ([]any, error) {
	partials := ""
	if len(u.Partials) > 0 {
		b, err := json.Marshal(u.Partials)
		if err != nil {
			return nil, fmt.Errorf("redisstore: encode partials: %w", err)
		}
		partials = string(b)
	}
	kv := []any{
		fID, u.ID,
		fLength, strconv.FormatInt(u.Length, 10),
		fOffset, strconv.FormatInt(u.Offset, 10),
		fMetadata, u.Metadata,
		fConcat, u.Concat,
		fPartial, boolField(u.Partial),
		fPartials, partials,
		fOwner, u.Owner,
		fCreated, timeField(u.CreatedAt),
		fExpires, timeField(u.ExpiresAt),
		fFinished, boolField(u.Finished),
		fStopped, boolField(u.Stopped),
		fReason, u.StopReason,
	}
	for _, k := range sortedKeys(u.Handle) {
		if v := u.Handle[k]; v != "" {
			kv = append(kv, handlePfx+k, v)
		}
	}
	return kv, nil
}

// decodeRecord is the inverse of encodeRecord.
func decodeRecord(m map[string]string) (*state.Upload, error) {
	u := &state.Upload{
		ID:         m[fID],
		Metadata:   m[fMetadata],
		Concat:     m[fConcat],
		Partial:    m[fPartial] == "1",
		Owner:      m[fOwner],
		Finished:   m[fFinished] == "1",
		Stopped:    m[fStopped] == "1",
		StopReason: m[fReason],
	}
	var err error
	if u.Length, err = strconv.ParseInt(m[fLength], 10, 64); err != nil {
		return nil, fmt.Errorf("redisstore: record %s: bad length: %w", u.ID, err)
	}
	if u.Offset, err = strconv.ParseInt(m[fOffset], 10, 64); err != nil {
		return nil, fmt.Errorf("redisstore: record %s: bad offset: %w", u.ID, err)
	}
	if u.CreatedAt, err = parseTimeField(m[fCreated]); err != nil {
		return nil, fmt.Errorf("redisstore: record %s: bad creation time: %w", u.ID, err)
	}
	if u.ExpiresAt, err = parseTimeField(m[fExpires]); err != nil {
		return nil, fmt.Errorf("redisstore: record %s: bad expiry: %w", u.ID, err)
	}
	if p := m[fPartials]; p != "" {
		if err := json.Unmarshal([]byte(p), &u.Partials); err != nil {
			return nil, fmt.Errorf("redisstore: record %s: bad partials: %w", u.ID, err)
		}
	}
	for k, v := range m {
		if name, ok := strings.CutPrefix(k, handlePfx); ok {
			if u.Handle == nil {
				u.Handle = make(map[string]string)
			}
			u.Handle[name] = v
		}
	}
	return u, nil
}

// storedPart is a manifest entry; the part number is the hash field.
type storedPart struct {
	Offset   int64  `json:"o"`
	Size     int64  `json:"s"`
	ETag     string `json:"e,omitempty"`
	Checksum string `json:"c,omitempty"`
}

func encodePart(p state.Part) (string, error) {
	b, err := json.Marshal(storedPart{Offset: p.Offset, Size: p.Size, ETag: p.ETag, Checksum: p.Checksum})
	if err != nil {
		return "", fmt.Errorf("redisstore: encode part %d: %w", p.Number, err)
	}
	return string(b), nil
}

func decodeManifest(m map[string]string) ([]state.Part, error) {
	parts := make([]state.Part, 0, len(m))
	for field, v := range m {
		n, err := strconv.Atoi(field)
		if err != nil {
			return nil, fmt.Errorf("redisstore: bad part number %q: %w", field, err)
		}
		var sp storedPart
		if err := json.Unmarshal([]byte(v), &sp); err != nil {
			return nil, fmt.Errorf("redisstore: bad part %d: %w", n, err)
		}
		parts = append(parts, state.Part{Number: n, Offset: sp.Offset, Size: sp.Size, ETag: sp.ETag, Checksum: sp.Checksum})
	}
	slices.SortFunc(parts, func(a, b state.Part) int { return cmp.Compare(a.Number, b.Number) })
	return parts, nil
}

// sortedKeys gives scripts their arguments in a stable order.
func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

// unixMilli is the expiry index score of t.
func unixMilli(t time.Time) float64 { return float64(t.UnixMilli()) }
