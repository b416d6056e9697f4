package s3store

import (
	"crypto/rand"
	"fmt"
	"strconv"
	"strings"

	"github.com/tusgate/tusgate/state"
)

// Keys of Upload.Handle owned by this backend.
const (
	// HandleKey is the object key (prefix + upload ID) fixed at Create.
	HandleKey = "s3.key"
	// HandleUploadID is the S3 multipart UploadId.
	HandleUploadID = "s3.upload_id"
	// HandlePartSize is the part size in bytes, fixed at Create.
	HandlePartSize = "s3.part_size"
	// HandleTailKey / HandleTailSize point at the durable tail: the bytes
	// after the last full part, kept as a separate object until a Write
	// completes the part (absent when there is no tail).
	HandleTailKey  = "s3.tail_key"
	HandleTailSize = "s3.tail_size"
	// HandleStaleTail names a tail object superseded by a committed change;
	// the next Write, Finish or Delete removes it. Deleting only after the
	// supersession is visible in committed state keeps the tail safe from a
	// gateway that buffers changes and may discard them.
	HandleStaleTail = "s3.stale_tail"
)

// tailInfix separates the object key from the tail suffix; every tail of an
// upload starts with key + tailInfix, so Delete can find strays.
const tailInfix = ".tail."

// handle is the parsed form of Upload.Handle.
type handle struct {
	key       string
	uploadID  string
	partSize  int64
	tailKey   string
	tailSize  int64
	staleTail string
}

func newHandle(key, uploadID string, partSize int64) map[string]string {
	return map[string]string{
		HandleKey:      key,
		HandleUploadID: uploadID,
		HandlePartSize: strconv.FormatInt(partSize, 10),
	}
}

// handleOf reads u's handle leniently (Delete must work on partial records);
// writers call check.
func handleOf(cfg Config, u *state.Upload) handle {
	h := handle{
		key:       u.Handle[HandleKey],
		uploadID:  u.Handle[HandleUploadID],
		tailKey:   u.Handle[HandleTailKey],
		staleTail: u.Handle[HandleStaleTail],
	}
	if h.key == "" {
		h.key = cfg.Prefix + u.ID
	}
	h.partSize, _ = strconv.ParseInt(u.Handle[HandlePartSize], 10, 64)
	h.tailSize, _ = strconv.ParseInt(u.Handle[HandleTailSize], 10, 64)
	return h
}

// check validates what Write and Finish rely on: the tail starts at a part
// boundary and is shorter than a part, and only a complete upload ends
// elsewhere than a part boundary.
func (h handle) check(u *state.Upload) error {
	switch {
	case h.uploadID == "":
		return fmt.Errorf("s3store: upload %s has no multipart upload in its handle", u.ID)
	case h.partSize <= 0:
		return fmt.Errorf("s3store: upload %s has no valid part size in its handle", u.ID)
	case h.tailSize < 0 || h.tailSize >= h.partSize || (h.tailSize > 0) != (h.tailKey != ""):
		return fmt.Errorf("s3store: upload %s has an invalid tail (%q, %d bytes)", u.ID, h.tailKey, h.tailSize)
	case u.Complete() && h.tailSize == 0:
		// The last part may be short; nothing follows it.
	case (u.Offset-h.tailSize)%h.partSize != 0 || u.Offset < h.tailSize:
		return fmt.Errorf("s3store: upload %s: offset %d does not match part size %d and tail %d",
			u.ID, u.Offset, h.partSize, h.tailSize)
	}
	return nil
}

// tailKeyFor names a new tail object. The random part makes every tail
// unique, so a tail being written can never overwrite one that committed
// state still points to.
func (h handle) tailKeyFor(endOffset int64) string {
	return h.key + tailInfix + strconv.FormatInt(endOffset, 10) + "." + strings.ToLower(rand.Text())
}

// partNumber derives the part number from the offset where the part starts.
func (h handle) partNumber(offset int64) int { return int(offset/h.partSize) + 1 }
