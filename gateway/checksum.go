package gateway

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"hash/crc32"
	"io"
	"strings"
)

// checksumAlgorithmNames lists what Tus-Checksum-Algorithm advertises, in order.
var checksumAlgorithmNames = []string{"sha1", "md5", "sha256", "sha512", "crc32"}

var checksumAlgorithmList = strings.Join(checksumAlgorithmNames, ",")

// checksumSizes maps each algorithm to its digest length, for validation.
var checksumSizes = map[string]int{
	"sha1": sha1.Size, "md5": md5.Size, "sha256": sha256.Size, "sha512": sha512.Size, "crc32": crc32.Size,
}

func newHash(alg string) hash.Hash {
	switch alg {
	case "sha1":
		return sha1.New()
	case "md5":
		return md5.New()
	case "sha256":
		return sha256.New()
	case "sha512":
		return sha512.New()
	case "crc32":
		return crc32.NewIEEE()
	}
	return nil
}

// bodyHasher hashes the request body as it streams. With a header checksum it
// runs one algorithm; with a trailer the algorithm is only known at the end,
// so it runs all of them.
type bodyHasher struct {
	hashes map[string]hash.Hash
	w      io.Writer
}

func newBodyHasher(alg string) *bodyHasher {
	names := checksumAlgorithmNames
	if alg != "" {
		names = []string{alg}
	}
	h := &bodyHasher{hashes: make(map[string]hash.Hash, len(names))}
	ws := make([]io.Writer, 0, len(names))
	for _, n := range names {
		h.hashes[n] = newHash(n)
		ws = append(ws, h.hashes[n])
	}
	h.w = io.MultiWriter(ws...)
	return h
}

func (h *bodyHasher) Write(p []byte) (int, error) { return h.w.Write(p) }

// matches reports whether the streamed body has the expected digest.
func (h *bodyHasher) matches(c checksumRequest) bool {
	hh, ok := h.hashes[c.algorithm]
	if !ok {
		return false
	}
	return bytes.Equal(hh.Sum(nil), c.digest)
}
