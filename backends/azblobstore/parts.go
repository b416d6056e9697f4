package azblobstore

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"

	"github.com/tusgate/tusgate/backends/multipart"
)

var _ multipart.PartLister = (*driver)(nil)

// StoredParts lists the blocks staged for h's blob by part number, so that
// a refused block-list commit can be checked against the manifest. A blob
// with nothing staged is no error: Azure has no session to lose, only
// blocks (dropped after a week, or by a commit that leaves them out).
func (d *driver) StoredParts(ctx context.Context, h multipart.Handle) (map[int]multipart.StoredPart, error) {
	res, err := do(ctx, d, func(ctx context.Context) (blockblob.GetBlockListResponse, error) {
		return d.blob(h.Key).GetBlockList(ctx, blockblob.BlockListTypeUncommitted, nil)
	})
	parts := map[int]multipart.StoredPart{}
	if err := classify("GetBlockList", err); err != nil {
		if isNotFound(err) {
			return parts, nil
		}
		return nil, err
	}
	for _, b := range res.UncommittedBlocks {
		if b.Name == nil || b.Size == nil {
			continue
		}
		if num, ok := partOf(*b.Name); ok {
			parts[num] = multipart.StoredPart{ETag: *b.Name, Size: *b.Size}
		}
	}
	return parts, nil
}

// partOf is the part number a block id of blockID names.
func partOf(id string) (int, bool) {
	raw, err := base64.StdEncoding.DecodeString(id)
	if err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimPrefix(string(raw), "tusgate-part-"))
	if err != nil || blockID(n) != id {
		return 0, false
	}
	return n, true
}
