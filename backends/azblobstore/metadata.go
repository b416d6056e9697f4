package azblobstore

import (
	"strings"

	"github.com/tusgate/tusgate/backends"
)

// maxMetadata is Azure's limit on the metadata of a blob (names and values).
const maxMetadata = 8 << 10

// azureMetadata sanitises tus metadata into blob metadata
// (backends.UserMetadata): names become C# identifiers (letters, digits,
// underscores, not starting with a digit; Azure compares them
// case-insensitively, so they are lower-cased), within the 8 KiB limit.
func azureMetadata(meta map[string]string) map[string]*string {
	out := map[string]*string{}
	for k, v := range backends.UserMetadata(meta, sanitizeName, backends.HeaderSafe, maxMetadata) {
		out[k] = &v
	}
	return out
}

func sanitizeName(k string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(k) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := strings.Trim(b.String(), "_")
	if s != "" && s[0] >= '0' && s[0] <= '9' {
		s = "_" + s
	}
	return s
}
