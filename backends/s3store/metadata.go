package s3store

import (
	"encoding/base64"
	"mime"
	"sort"
	"strings"
	"unicode/utf8"
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

// parseTusMetadata decodes Upload-Metadata: comma-separated "key base64value"
// pairs, the value optional. Malformed pairs are skipped: the gateway
// validates the header, this only derives object attributes from it.
func parseTusMetadata(raw string) map[string]string {
	out := map[string]string{}
	for _, pair := range strings.Split(raw, ",") {
		fields := strings.Fields(pair)
		switch len(fields) {
		case 1:
			out[fields[0]] = ""
		case 2:
			v, err := base64.StdEncoding.DecodeString(fields[1])
			if err == nil {
				out[fields[0]] = string(v)
			}
		}
	}
	return out
}

// attrsFor maps tus metadata to S3 object attributes: filetype becomes the
// Content-Type (when it is a valid media type), filename the
// Content-Disposition, and every pair is kept as user metadata in the form
// S3 accepts.
func attrsFor(rawMetadata string) objectAttrs {
	meta := parseTusMetadata(rawMetadata)
	a := objectAttrs{ContentType: "application/octet-stream"}
	if ft := meta["filetype"]; ft != "" {
		if mt, params, err := mime.ParseMediaType(ft); err == nil {
			if s := mime.FormatMediaType(mt, params); s != "" {
				a.ContentType = s
			}
		}
	}
	if name := meta["filename"]; name != "" && utf8.ValidString(name) {
		// FormatMediaType adds RFC 2231 filename* encoding for non-ASCII
		// names; it refuses names with control characters, so drop those.
		clean := strings.Map(func(r rune) rune {
			if r < 0x20 || r == 0x7f {
				return -1
			}
			return r
		}, name)
		a.ContentDisposition = mime.FormatMediaType("attachment", map[string]string{"filename": clean})
	}
	a.Metadata = s3Metadata(meta)
	return a
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
