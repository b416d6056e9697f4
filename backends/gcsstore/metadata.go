package gcsstore

import (
	"strings"
	"unicode/utf8"

	"github.com/tusgate/tusgate/backends"
)

// maxMetadata is Cloud Storage's limit on the custom metadata of an object
// (keys and values together).
const maxMetadata = 8 << 10

// gcsMetadata keeps the tus metadata that Cloud Storage can carry
// (backends.UserMetadata): keys and values of valid UTF-8 (keys without
// control characters, which cannot travel as headers), as they are, since
// the JSON API carries any text, until the 8 KiB limit.
func gcsMetadata(meta map[string]string) map[string]string {
	return backends.UserMetadata(meta, gcsKey, gcsValue, maxMetadata)
}

func gcsKey(k string) string {
	if !utf8.ValidString(k) || strings.ContainsFunc(k, isControl) {
		return ""
	}
	return k
}

func gcsValue(v string) (string, bool) { return v, utf8.ValidString(v) }

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }
