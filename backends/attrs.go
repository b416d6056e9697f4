package backends

import (
	"encoding/base64"
	"mime"
	"strings"
	"unicode/utf8"
)

// ObjectAttrs are what an object store keeps with a finished object,
// derived from the tus metadata once for every store, so proxied and
// presigned downloads of any store carry the same headers.
type ObjectAttrs struct {
	ContentType        string
	ContentDisposition string
	// Metadata is the decoded tus metadata; each store sanitises it to its
	// own rules for user metadata.
	Metadata map[string]string
}

// ParseMetadata decodes Upload-Metadata: comma-separated "key base64value"
// pairs, the value optional. Malformed pairs are skipped: the gateway
// validates the header, this only derives object attributes from it.
func ParseMetadata(raw string) map[string]string {
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

// AttrsFor maps tus metadata to object attributes: filetype becomes the
// Content-Type (when it is a valid media type), filename the
// Content-Disposition (attachment).
func AttrsFor(rawMetadata string) ObjectAttrs {
	meta := ParseMetadata(rawMetadata)
	a := ObjectAttrs{ContentType: "application/octet-stream", Metadata: meta}
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
	return a
}
