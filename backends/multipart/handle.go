package multipart

import (
	"crypto/rand"
	"fmt"
	"strconv"
	"strings"

	"github.com/tusgate/tusgate/state"
)

// Keys are the Upload.Handle keys the engine owns, in the driver's
// namespace (for S3 "s3.key", "s3.upload_id", ... as records have always
// had them).
type Keys struct {
	// Key is the object name (prefix + upload ID) fixed at Create.
	Key string
	// UploadID is the store's multipart session (S3 UploadId; Azure has
	// none and records a marker).
	UploadID string
	// PartSize is the part size of an upload whose parts all have one size.
	PartSize string
	// Layout replaces PartSize for uploads whose part sizes grow with the
	// offset (deferred length): "doubling:<base>:<tier>".
	Layout string
	// TailKey / TailSize point at the durable tail: the bytes after the last
	// full part, kept as a small object until a Write completes the part.
	TailKey  string
	TailSize string
	// StaleTail names a tail superseded by a committed change; the next
	// Write, Finish or Delete removes it. Deleting only after the
	// supersession is visible in committed state keeps the tail safe from a
	// gateway that buffers changes and may discard them.
	StaleTail string
	// Checksum is the integrity digest the parts of the upload carry (""
	// none); the manifest records every part's value.
	Checksum string
}

// KeysFor returns the handle keys of namespace ns.
func KeysFor(ns string) Keys {
	return Keys{
		Key: ns + ".key", UploadID: ns + ".upload_id", PartSize: ns + ".part_size", Layout: ns + ".layout",
		TailKey: ns + ".tail_key", TailSize: ns + ".tail_size", StaleTail: ns + ".stale_tail",
		Checksum: ns + ".checksum",
	}
}

// TailInfix separates the object name from the tail suffix; every tail of
// an upload starts with key + TailInfix, so Delete can find strays.
const TailInfix = ".tail."

// Handle is the parsed form of Upload.Handle.
type Handle struct {
	Key       string
	UploadID  string
	Layout    Layout
	TailKey   string
	TailSize  int64
	StaleTail string
	Checksum  string
}

func (e *Engine) newHandle(key, uploadID, checksum string, l Layout) map[string]string {
	hv := l.HandleEntries(e.keys)
	hv[e.keys.Key] = key
	hv[e.keys.UploadID] = uploadID
	if checksum != "" {
		hv[e.keys.Checksum] = checksum
	}
	return hv
}

// HandleOf reads u's handle leniently (Delete must work on partial
// records); writers call Check.
func (e *Engine) HandleOf(u *state.Upload) Handle {
	k := e.keys
	h := Handle{
		Key:       u.Handle[k.Key],
		UploadID:  u.Handle[k.UploadID],
		TailKey:   u.Handle[k.TailKey],
		StaleTail: u.Handle[k.StaleTail],
		Checksum:  u.Handle[k.Checksum],
		Layout:    e.cfg.LayoutFromHandle(k, u.Handle),
	}
	if h.Key == "" {
		h.Key = e.cfg.Prefix + u.ID
	}
	h.TailSize, _ = strconv.ParseInt(u.Handle[k.TailSize], 10, 64)
	return h
}

// ObjectKey is the name of u's object (prefix + ID unless the handle
// names another), for drivers that describe where an upload is.
func (e *Engine) ObjectKey(u *state.Upload) string { return e.HandleOf(u).Key }

// Check validates what Write and Finish rely on: the tail starts at a part
// boundary and is shorter than that part, and only a complete upload ends
// elsewhere than a part boundary.
func (h Handle) Check(u *state.Upload) error {
	if h.UploadID == "" {
		return fmt.Errorf("multipart: upload %s has no multipart upload in its handle", u.ID)
	}
	if !h.Layout.Valid() {
		return fmt.Errorf("multipart: upload %s has no valid part size or layout in its handle", u.ID)
	}
	if h.TailSize < 0 || (h.TailSize > 0) != (h.TailKey != "") {
		return fmt.Errorf("multipart: upload %s has an invalid tail (%q, %d bytes)", u.ID, h.TailKey, h.TailSize)
	}
	if u.Complete() && h.TailSize == 0 {
		return nil // the last part may be short; nothing follows it
	}
	start := u.Offset - h.TailSize
	if start < 0 {
		return fmt.Errorf("multipart: upload %s: offset %d is below its %d-byte tail", u.ID, u.Offset, h.TailSize)
	}
	if p := h.Layout.At(start); p.Start != start || h.TailSize >= p.Size {
		return fmt.Errorf("multipart: upload %s: offset %d with a %d-byte tail does not fit part %d (%d+%d)",
			u.ID, u.Offset, h.TailSize, p.Num, p.Start, p.Size)
	}
	return nil
}

// tailKeyFor names a new tail object. The random part makes every tail
// unique, so a tail being written can never overwrite one that committed
// state still points to.
func (h Handle) tailKeyFor(endOffset int64) string {
	return h.Key + TailInfix + strconv.FormatInt(endOffset, 10) + "." + strings.ToLower(rand.Text())
}
