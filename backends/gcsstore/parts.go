package gcsstore

import (
	"context"
	"strconv"
	"strings"

	"cloud.google.com/go/storage"

	"github.com/tusgate/tusgate/backends/multipart"
)

var _ multipart.PartLister = (*driver)(nil)

// StoredParts lists the part objects of h by number, with the generation
// PutPart returned as their id, so that a refused compose can be checked
// against the manifest. Compose rounds' intermediates are not parts.
func (d *driver) StoredParts(ctx context.Context, h multipart.Handle) (map[int]multipart.StoredPart, error) {
	prefix := partsPrefix(h.Key)
	parts := map[int]multipart.StoredPart{}
	err := d.list(ctx, prefix, []string{"Name", "Generation", "Size"}, func(a *storage.ObjectAttrs) {
		rest := strings.TrimPrefix(a.Name, prefix)
		if num, err := strconv.Atoi(rest); err == nil && len(rest) == 5 {
			parts[num] = multipart.StoredPart{ETag: strconv.FormatInt(a.Generation, 10), Size: a.Size}
		}
	})
	if err != nil {
		return nil, err
	}
	return parts, nil
}
