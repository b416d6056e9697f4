package testenv

import "math/rand/v2"

// Source returns size deterministic pseudo-random bytes for seed: upload
// sources that tests can regenerate instead of keeping.
func Source(size int, seed uint64) []byte {
	var key [32]byte
	for i := range 8 {
		key[i] = byte(seed >> (8 * i))
	}
	b := make([]byte, size)
	_, _ = rand.NewChaCha8(key).Read(b) // never fails
	return b
}
