package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
)

// objectStore is what the runner checks and clears after a run: the MinIO
// bucket, the Azure container or the GCS bucket.
type objectStore interface {
	sizes(ctx context.Context, prefix string) (map[string]int64, error)
	objectSHA256(ctx context.Context, key string) ([sha256.Size]byte, error)
	clear(ctx context.Context, prefix string) error
}

// sha256Of hashes the body of the object key as read from r.
func sha256Of(key string, r io.Reader) ([sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return sum, fmt.Errorf("read %s: %w", key, err)
	}
	copy(sum[:], h.Sum(nil))
	return sum, nil
}

// deleteListed removes every object the store lists under prefix with del.
func deleteListed(ctx context.Context, s objectStore, prefix string, del func(ctx context.Context, key string) error) error {
	objs, err := s.sizes(ctx, prefix)
	if err != nil {
		return err
	}
	for k := range objs {
		if err := del(ctx, k); err != nil {
			return fmt.Errorf("delete %s: %w", k, err)
		}
	}
	return nil
}
