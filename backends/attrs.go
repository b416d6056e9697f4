package backends

import (
	"encoding/base64"
	"fmt"
	"mime"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/tusgate/tusgate/state"
)

// ObjectAttrs are the headers a finished object is served with, derived
// from the tus metadata by one policy (AttrsFor) for every store and every
// path: the gateway's proxied GET, the attributes stored with the object
// and the overrides of a presigned URL all carry the same values.
type ObjectAttrs struct {
	ContentType        string
	ContentDisposition string
	// Metadata is the decoded tus metadata; each store sanitises it to its
	// own rules for user metadata.
	Metadata map[string]string
}

// ParseMetadata decodes an Upload-Metadata header strictly: pairs separated
// by commas, key and base64 value separated by one space, keys non-empty,
// printable ASCII without spaces or commas, unique. A key may stand alone (or
// with a trailing space) for an empty value. Strictness keeps garbage out of
// object metadata and makes the exact echo of the raw header meaningful.
// The gateway refuses an upload whose header fails here, so a stored record
// always parses.
func ParseMetadata(raw string) (map[string]string, error) {
	md := map[string]string{}
	if raw == "" {
		return md, nil
	}
	for _, pair := range strings.Split(raw, ",") {
		pair = strings.TrimLeft(pair, " \t")
		key, val, hasVal := strings.Cut(pair, " ")
		if key == "" {
			return nil, fmt.Errorf("Upload-Metadata has an empty key")
		}
		for i := 0; i < len(key); i++ {
			if key[i] <= ' ' || key[i] >= 0x7f {
				return nil, fmt.Errorf("Upload-Metadata key %q must be printable ASCII", key)
			}
		}
		if _, dup := md[key]; dup {
			return nil, fmt.Errorf("Upload-Metadata key %q appears twice", key)
		}
		val = strings.TrimRight(val, " \t")
		if hasVal && strings.ContainsAny(val, " \t") {
			return nil, fmt.Errorf("Upload-Metadata value of %q contains a space", key)
		}
		dec, err := base64.StdEncoding.Strict().DecodeString(val)
		if err != nil {
			return nil, fmt.Errorf("Upload-Metadata value of %q is not valid base64", key)
		}
		md[key] = string(dec)
	}
	return md, nil
}

// inlineTypes may be shown by the browser; anything else (HTML, SVG, scripts)
// is served as an attachment so an upload cannot run in the origin serving
// it. Types are compared exactly after parsing: "text/plainx" is not
// "text/plain".
var inlineTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true,
	"image/webp": true, "image/avif": true, "application/pdf": true, "text/plain": true}

// inlineKinds are top-level types shown inline whatever the subtype.
var inlineKinds = map[string]bool{"video": true, "audio": true}

// AttrsFor maps decoded tus metadata to object attributes: filetype becomes
// the Content-Type when it is a valid media type (else
// application/octet-stream); the Content-Disposition is inline for the types
// a browser may show and attachment for everything else, with filename
// when one was given. mime.FormatMediaType quotes the name and RFC
// 2231-encodes non-ASCII and control characters, so quotes, CR or LF cannot
// inject headers.
func AttrsFor(md map[string]string) ObjectAttrs {
	a := ObjectAttrs{ContentType: "application/octet-stream", Metadata: md}
	kind := "attachment"
	if t, params, err := mime.ParseMediaType(md["filetype"]); err == nil {
		if f := mime.FormatMediaType(t, params); f != "" {
			a.ContentType = f
			top, _, _ := strings.Cut(t, "/")
			if inlineTypes[t] || inlineKinds[top] {
				kind = "inline"
			}
		}
	}
	a.ContentDisposition = kind
	if name := md["filename"]; name != "" && utf8.ValidString(name) {
		// Control characters are percent-encoded (filename*), not dropped:
		// the name reaches the client as it was given, and cannot break
		// the header.
		if d := mime.FormatMediaType(kind, map[string]string{"filename": name}); d != "" {
			a.ContentDisposition = d
		}
	}
	return a
}

// AttrsOf derives the attributes of u from its stored metadata, validated
// when the upload was created; a record that somehow fails to parse gets
// the defaults (an attachment of application/octet-stream).
func AttrsOf(u *state.Upload) ObjectAttrs {
	md, err := ParseMetadata(u.Metadata)
	if err != nil {
		md = map[string]string{}
	}
	return AttrsFor(md)
}

// UserMetadata sanitises tus metadata into a store's user metadata (S3's
// x-amz-meta-*, Azure's blob metadata, GCS's custom metadata): name maps
// each key to one the store accepts and value each value ("" or false
// drops the pair); pairs are kept in key order, the first of two keys that
// map to one name winning, until names and values reach limit bytes.
func UserMetadata(meta map[string]string, name func(string) string, value func(string) (string, bool), limit int) map[string]string {
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := map[string]string{}
	used := 0
	for _, k := range keys {
		n := name(k)
		v, ok := value(meta[k])
		if n == "" || !ok {
			continue
		}
		if _, dup := out[n]; dup || used+len(n)+len(v) > limit {
			continue
		}
		used += len(n) + len(v)
		out[n] = v
	}
	return out
}

// HeaderSafe makes a metadata value safe for stores that carry it in HTTP
// headers: tabs become spaces, surrounding blanks go (transit would strip
// them anyway), non-ASCII text is RFC 2047 encoded (which S3 and Azure
// decode), and a value that is not UTF-8 is dropped.
func HeaderSafe(v string) (string, bool) {
	if !utf8.ValidString(v) {
		return "", false
	}
	v = strings.TrimSpace(strings.ReplaceAll(v, "\t", " "))
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] >= 0x7f {
			return mime.QEncoding.Encode("utf-8", v), true
		}
	}
	return v, true
}
