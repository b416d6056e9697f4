package gcsstore

import (
	"sort"
	"strings"
	"unicode/utf8"
)

// maxMetadata is Cloud Storage's limit on the custom metadata of an object
// (keys and values together).
const maxMetadata = 8 << 10

// gcsMetadata keeps the tus metadata that Cloud Storage can carry: keys
// and values of valid UTF-8 (keys without control characters, which
// cannot travel as headers), in key order until the 8 KiB limit.
func gcsMetadata(meta map[string]string) map[string]string {
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := map[string]string{}
	used := 0
	for _, k := range keys {
		v := meta[k]
		if k == "" || !utf8.ValidString(k) || !utf8.ValidString(v) || strings.ContainsFunc(k, isControl) {
			continue
		}
		if used+len(k)+len(v) > maxMetadata {
			continue
		}
		used += len(k) + len(v)
		out[k] = v
	}
	return out
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }
