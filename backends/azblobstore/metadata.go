package azblobstore

import (
	"mime"
	"sort"
	"strings"
	"unicode/utf8"
)

// maxMetadata is Azure's limit on the metadata of a blob (names and values).
const maxMetadata = 8 << 10

// azureMetadata sanitises tus metadata into blob metadata: names become
// C# identifiers (letters, digits, underscores, not starting with a digit;
// Azure compares them case-insensitively, so they are lower-cased), non-
// ASCII values are RFC 2047 encoded, values that are not text are dropped,
// and pairs are kept in name order until the 8 KiB limit.
func azureMetadata(meta map[string]string) map[string]*string {
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := map[string]*string{}
	used := 0
	for _, k := range keys {
		name := sanitizeName(k)
		v, ok := sanitizeValue(meta[k])
		if name == "" || !ok {
			continue
		}
		if _, dup := out[name]; dup || used+len(name)+len(v) > maxMetadata {
			continue
		}
		used += len(name) + len(v)
		out[name] = &v
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

func sanitizeValue(v string) (string, bool) {
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
