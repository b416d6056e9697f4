package gcsstore

import (
	"context"
	"fmt"

	"cloud.google.com/go/storage"

	"github.com/tusgate/tusgate/state"
)

// source is one finished partial of a concatenation.
type source struct {
	key  string
	size int64
}

// composeConcat composes the partials' objects into key, the final, in
// rounds, when their components together fit MaxComponents; it reports
// false (and does nothing) when they do not. Every partial is checked to
// hold the bytes its record says, and composed by the generation seen.
func (d *driver) composeConcat(ctx context.Context, key string, final *state.Upload, srcs []source) (bool, error) {
	if len(srcs) == 0 {
		return false, nil
	}
	handles := make([]*storage.ObjectHandle, len(srcs))
	components := 0
	for i, s := range srcs {
		a, err := d.attrs(ctx, s.key)
		if err != nil {
			return false, fmt.Errorf("gcsstore: concat %s: partial %s: %w", final.ID, s.key, err)
		}
		if a.Size != s.size {
			return false, fmt.Errorf("gcsstore: concat %s: partial %s holds %d bytes, its upload %d", final.ID, s.key, a.Size, s.size)
		}
		// A plain object is one component; a composite says how many.
		components += max(int(a.ComponentCount), 1)
		handles[i] = d.obj(s.key).Generation(a.Generation)
	}
	if components > MaxComponents {
		return false, nil
	}
	if err := d.compose(ctx, key, handles, objectAttrs(final)); err != nil {
		return false, fmt.Errorf("gcsstore: concat %s: %w", final.ID, err)
	}
	d.dropParts(ctx, key)
	return true, nil
}
