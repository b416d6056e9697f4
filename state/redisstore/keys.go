package redisstore

import (
	"fmt"
	"strings"

	"github.com/tusgate/tusgate/state"
)

// keys names everything one upload owns. The {ID} hash tag keeps them all in
// one Cluster slot.
type keys struct {
	record, manifest, lock, fence, waiting, channel string
}

func (s *Store) keysFor(id string) keys {
	base := s.opts.Prefix + ":{" + id + "}:"
	return keys{
		record:   base + "u",
		manifest: base + "p",
		lock:     base + "l",
		fence:    base + "f",
		waiting:  base + "w",
		channel:  base + "c",
	}
}

func (s *Store) expiryKey() string { return s.opts.Prefix + ":expiry" }

// channelPattern matches every upload channel of this prefix; glob
// metacharacters in the prefix are escaped.
func (s *Store) channelPattern() string {
	var b strings.Builder
	for _, r := range s.opts.Prefix {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteString(":{*}:c")
	return b.String()
}

// idFromChannel recovers the upload ID from a channel name.
func (s *Store) idFromChannel(ch string) (string, bool) {
	rest, ok := strings.CutPrefix(ch, s.opts.Prefix+":{")
	if !ok {
		return "", false
	}
	return strings.CutSuffix(rest, "}:c")
}

// validID rejects IDs that could not have been created: braces would move
// the hash tag and split an upload's keys across slots.
func validID(id string) bool {
	return id != "" && !strings.ContainsAny(id, "{}")
}

// invalidID is the error for an ID that cannot exist.
func invalidID(id string) error {
	return fmt.Errorf("redisstore: invalid upload ID %q: %w", id, state.ErrNotFound)
}
