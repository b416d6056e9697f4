package gateway

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// parseSize parses a tus integer header (Upload-Offset, Upload-Length): plain
// decimal digits only, so "+1", "1e3", " 1" and values beyond int64 are
// rejected instead of being read as something the client did not mean.
func parseSize(name, v string) (int64, error) {
	if v == "" {
		return 0, protoErr(errBadRequest, "%s is missing", name)
	}
	if len(v) > 19 {
		return 0, protoErr(errBadRequest, "%s is out of range", name)
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, protoErr(errBadRequest, "%s must be a non-negative integer", name)
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, protoErr(errBadRequest, "%s is out of range", name)
	}
	return n, nil
}

// Metadata is one decoded Upload-Metadata pair.
type Metadata map[string]string

// parseMetadata validates an Upload-Metadata header strictly: pairs separated
// by commas, key and base64 value separated by one space, keys non-empty,
// printable ASCII without spaces or commas, unique. A key may stand alone (or
// with a trailing space) for an empty value. Strictness keeps garbage out of
// object metadata and makes the exact echo of the raw header meaningful.
func parseMetadata(v string) (Metadata, error) {
	md := Metadata{}
	if v == "" {
		return md, nil
	}
	for _, pair := range strings.Split(v, ",") {
		pair = strings.TrimLeft(pair, " \t")
		key, val, hasVal := strings.Cut(pair, " ")
		if key == "" {
			return nil, protoErr(errBadRequest, "Upload-Metadata has an empty key")
		}
		for i := 0; i < len(key); i++ {
			if key[i] <= ' ' || key[i] >= 0x7f {
				return nil, protoErr(errBadRequest, "Upload-Metadata key %q must be printable ASCII", key)
			}
		}
		if _, dup := md[key]; dup {
			return nil, protoErr(errBadRequest, "Upload-Metadata key %q appears twice", key)
		}
		val = strings.TrimRight(val, " \t")
		if hasVal && strings.ContainsAny(val, " \t") {
			return nil, protoErr(errBadRequest, "Upload-Metadata value of %q contains a space", key)
		}
		dec, err := base64.StdEncoding.Strict().DecodeString(val)
		if err != nil {
			return nil, protoErr(errBadRequest, "Upload-Metadata value of %q is not valid base64", key)
		}
		md[key] = string(dec)
	}
	return md, nil
}

// concatRequest is a parsed Upload-Concat header.
type concatRequest struct {
	partial bool
	urls    []string // final: the partial upload URLs in order
}

// parseConcat parses "partial" or "final;<url> <url> ...". The URLs are
// resolved to upload IDs by the caller.
func parseConcat(v string) (concatRequest, error) {
	if v == "partial" {
		return concatRequest{partial: true}, nil
	}
	list, ok := strings.CutPrefix(v, "final;")
	if !ok {
		return concatRequest{}, protoErr(errBadRequest, "Upload-Concat must be \"partial\" or \"final;<urls>\"")
	}
	urls := strings.Split(list, " ")
	for _, u := range urls {
		if u == "" {
			return concatRequest{}, protoErr(errBadRequest, "Upload-Concat final needs URLs separated by single spaces")
		}
	}
	return concatRequest{urls: urls}, nil
}

// checksumRequest is a parsed Upload-Checksum header.
type checksumRequest struct {
	algorithm string
	digest    []byte
}

// parseChecksum parses "<algorithm> <base64 digest>". Unknown algorithms and
// malformed values are both 400 (the checksum extension's rule); a digest of
// the wrong length is a mismatch (460).
func parseChecksum(v string) (checksumRequest, error) {
	alg, enc, ok := strings.Cut(v, " ")
	if !ok || alg == "" || enc == "" {
		return checksumRequest{}, protoErr(errBadRequest, "Upload-Checksum must be \"<algorithm> <base64 digest>\"")
	}
	size, known := checksumSizes[alg]
	if !known {
		return checksumRequest{}, protoErr(errBadRequest, "checksum algorithm %q is not supported (use one of %s)", alg, checksumAlgorithmList)
	}
	digest, err := base64.StdEncoding.Strict().DecodeString(enc)
	if err != nil {
		return checksumRequest{}, protoErr(errBadRequest, "Upload-Checksum digest is not valid base64")
	}
	if len(digest) != size {
		// Well-formed but no body can have it: the extension's answer for a
		// digest that does not match is 460, not a syntax error.
		return checksumRequest{}, protoErr(errChecksumMismatch, "a %s digest has %d bytes, not %d", alg, size, len(digest))
	}
	return checksumRequest{algorithm: alg, digest: digest}, nil
}

// validID reports whether id has the shape the gateway generates: 32
// lowercase hex characters. Anything else is a 404 before any store is asked.
func validID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
