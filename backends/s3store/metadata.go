package s3store

import (
	"mime"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/state"
)

// maxUserMetadata is S3's limit on the user metadata of an object (keys and
// values together).
const maxUserMetadata = 2048

// objectAttrs are what S3 stores with the object, derived from tus metadata.
type objectAttrs struct {
	ContentType        string
	ContentDisposition string
	Metadata           map[string]string
}

// attrsFor maps the upload's tus metadata to S3 object attributes
// (backends.AttrsOf, the policy every download path shares), every pair
// kept as user metadata in the form S3 accepts.
func attrsFor(u *state.Upload) objectAttrs {
	a := backends.AttrsOf(u)
	return objectAttrs{ContentType: a.ContentType, ContentDisposition: a.ContentDisposition, Metadata: s3Metadata(a.Metadata)}
}

// s3Metadata sanitises tus metadata into x-amz-meta-* pairs: keys become
// lower-case header tokens, non-ASCII values are RFC 2047 encoded (which S3
// decodes), values that are not text are dropped, and pairs are kept in key
// order until S3's 2 KiB limit.
func s3Metadata(meta map[string]string) map[string]string {
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := map[string]string{}
	used := 0
	for _, k := range keys {
		key := sanitizeKey(k)
		v, ok := sanitizeValue(meta[k])
		if key == "" || !ok {
			continue
		}
		if _, dup := out[key]; dup {
			continue
		}
		if used+len(key)+len(v) > maxUserMetadata {
			continue
		}
		used += len(key) + len(v)
		out[key] = v
	}
	return out
}

func sanitizeKey(k string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(k) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return strings.Trim(b.String(), "_")
}

func sanitizeValue(v string) (string, bool) {
	if !utf8.ValidString(v) {
		return "", false
	}
	// Header values lose surrounding blanks in transit and QEncoding leaves
	// tabs alone, so normalise both before deciding.
	v = strings.TrimSpace(strings.ReplaceAll(v, "\t", " "))
	plain := true
	for i := 0; i < len(v) && plain; i++ {
		plain = v[i] >= 0x20 && v[i] < 0x7f
	}
	if plain {
		return v, true
	}
	return mime.QEncoding.Encode("utf-8", v), true
}
