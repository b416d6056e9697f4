package gateway

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/tusgate/tusgate/backends"
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

// Metadata is a decoded Upload-Metadata header.
type Metadata map[string]string

// parseMetadata validates an Upload-Metadata header with the one parser the
// backends derive object attributes with (backends.ParseMetadata).
func parseMetadata(v string) (Metadata, error) {
	md, err := backends.ParseMetadata(v)
	if err != nil {
		return nil, protoErr(errBadRequest, "%v", err)
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

// validID reports whether id can name an upload: 2 to 64 characters of
// A-Z, a-z, 0-9, '_' and '-'. The gateway generates 32 lowercase hex
// characters; a pre-create hook may choose others of that shape. Anything
// else is a 404 before any store is asked, and can never name a path or a
// key outside the upload's own.
func validID(id string) bool {
	if len(id) < 2 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
