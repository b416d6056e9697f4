package gcsstore

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"cloud.google.com/go/storage"
	"google.golang.org/api/iterator"

	"github.com/tusgate/tusgate/backends/multipart"
)

var _ multipart.PartLister = (*driver)(nil)

// StoredParts lists the part objects of h by number, with the generation
// PutPart returned as their id, so that a refused compose can be checked
// against the manifest. Compose rounds' intermediates are not parts.
func (d *driver) StoredParts(ctx context.Context, h multipart.Handle) (map[int]multipart.StoredPart, error) {
	prefix := partsPrefix(h.Key)
	q := &storage.Query{Prefix: prefix}
	if err := q.SetAttrSelection([]string{"Name", "Generation", "Size"}); err != nil {
		return nil, err
	}
	return do(ctx, d, func(ctx context.Context) (map[int]multipart.StoredPart, error) {
		parts := map[int]multipart.StoredPart{}
		it := d.bucket.Objects(ctx, q)
		for {
			a, err := it.Next()
			if errors.Is(err, iterator.Done) {
				return parts, nil
			}
			if err != nil {
				return nil, classify("ListObjects", err)
			}
			rest := strings.TrimPrefix(a.Name, prefix)
			if num, err := strconv.Atoi(rest); err == nil && len(rest) == 5 {
				parts[num] = multipart.StoredPart{ETag: strconv.FormatInt(a.Generation, 10), Size: a.Size}
			}
		}
	})
}
