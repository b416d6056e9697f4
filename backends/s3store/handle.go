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
	// HandlePartSize is the part size in bytes of an upload whose parts
	// all have one size (fixed at Create).
	HandlePartSize = "s3.part_size"
	// HandleLayout replaces HandlePartSize for uploads whose part sizes
	// grow with the offset (deferred length): "doubling:<base>:<tier>",
	// parts of base bytes doubling every tier parts. Fixed at Create.
	HandleLayout = "s3.layout"
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
	// HandleChecksum is the checksum algorithm the multipart upload was
	// created with ("crc32c"; absent: none). Every part then carries its
	// checksum, recorded in the manifest for completion.
	HandleChecksum = "s3.checksum"
)

// tailInfix separates the object key from the tail suffix; every tail of an
// upload starts with key + tailInfix, so Delete can find strays.
const tailInfix = ".tail."

// handle is the parsed form of Upload.Handle.
type handle struct {
	key       string
	uploadID  string
	layout    layout
	tailKey   string
	tailSize  int64
	staleTail string
	checksum  string
}

func newHandle(key, uploadID string, l layout) map[string]string {
	hv := l.handleEntries()
	hv[HandleKey] = key
	hv[HandleUploadID] = uploadID
	return hv
}

// handleOf reads u's handle leniently (Delete must work on partial records);
// writers call check.
func handleOf(cfg Config, u *state.Upload) handle {
	h := handle{
		key:       u.Handle[HandleKey],
		uploadID:  u.Handle[HandleUploadID],
		tailKey:   u.Handle[HandleTailKey],
		staleTail: u.Handle[HandleStaleTail],
		checksum:  u.Handle[HandleChecksum],
		layout:    layoutFromHandle(u.Handle),
	}
	if h.key == "" {
		h.key = cfg.Prefix + u.ID
	}
	h.tailSize, _ = strconv.ParseInt(u.Handle[HandleTailSize], 10, 64)
	return h
}

// check validates what Write and Finish rely on: the tail starts at a part
// boundary and is shorter than that part, and only a complete upload ends
// elsewhere than a part boundary.
func (h handle) check(u *state.Upload) error {
	if h.uploadID == "" {
		return fmt.Errorf("s3store: upload %s has no multipart upload in its handle", u.ID)
	}
	if !h.layout.valid() {
		return fmt.Errorf("s3store: upload %s has no valid part size or layout in its handle", u.ID)
	}
	if h.tailSize < 0 || (h.tailSize > 0) != (h.tailKey != "") {
		return fmt.Errorf("s3store: upload %s has an invalid tail (%q, %d bytes)", u.ID, h.tailKey, h.tailSize)
	}
	if u.Complete() && h.tailSize == 0 {
		return nil // the last part may be short; nothing follows it
	}
	start := u.Offset - h.tailSize
	if start < 0 {
		return fmt.Errorf("s3store: upload %s: offset %d is below its %d-byte tail", u.ID, u.Offset, h.tailSize)
	}
	if p := h.layout.at(start); p.start != start || h.tailSize >= p.size {
		return fmt.Errorf("s3store: upload %s: offset %d with a %d-byte tail does not fit part %d (%d+%d)",
			u.ID, u.Offset, h.tailSize, p.num, p.start, p.size)
	}
	return nil
}

// tailKeyFor names a new tail object. The random part makes every tail
// unique, so a tail being written can never overwrite one that committed
// state still points to.
func (h handle) tailKeyFor(endOffset int64) string {
	return h.key + tailInfix + strconv.FormatInt(endOffset, 10) + "." + strings.ToLower(rand.Text())
}
