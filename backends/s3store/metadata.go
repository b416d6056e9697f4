package s3store

import (
	"strings"

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

// s3Metadata sanitises tus metadata into x-amz-meta-* pairs
// (backends.UserMetadata): keys become lower-case header tokens, within
// S3's 2 KiB limit.
func s3Metadata(meta map[string]string) map[string]string {
	return backends.UserMetadata(meta, sanitizeKey, backends.HeaderSafe, maxUserMetadata)
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
