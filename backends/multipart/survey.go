package multipart

import (
	"context"
	"errors"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/state"
)

// PartLister is the optional listing of what a store holds for a session.
// With it, a completion the store refuses is checked against the manifest,
// so that a part the store lost is told apart from a passing failure and
// the upload is rewound to the bytes that survive (backends.LostError).
type PartLister interface {
	// StoredParts returns the parts of h's session by number, with the id
	// PutPart returned for them and their size (0: not known). The error
	// wraps backends.ErrNotFound when the session itself is gone.
	StoredParts(ctx context.Context, h Handle) (map[int]StoredPart, error)
}

// StoredPart is a part as the store lists it.
type StoredPart struct {
	ETag string
	Size int64
}

// survey checks, after the store refused to complete u from committed
// (the manifest's full parts, gapless from part 1, without the tail), which
// of those parts and whether the tail the store still holds. It returns a
// *backends.LostError when bytes are gone or the session is, and nil when
// everything is there (the refusal is then the caller's to report) or the
// question cannot be answered now.
func (e *Engine) survey(ctx context.Context, h Handle, u *state.Upload, committed []state.Part, refusal error) error {
	l, ok := e.drv.(PartLister)
	if !ok || errors.Is(refusal, backends.ErrUnavailable) || ctx.Err() != nil {
		return nil
	}
	stored, err := l.StoredParts(ctx, h)
	gone := errors.Is(err, backends.ErrNotFound)
	if err != nil && !gone {
		e.log.WarnContext(ctx, "could not list the parts of a refused completion", "id", u.ID, "err", err)
		return nil
	}
	var keep int64
	for _, p := range committed {
		s, ok := stored[p.Number]
		if !ok || s.ETag != p.ETag || (s.Size > 0 && s.Size != p.Size) {
			break
		}
		keep = p.Offset + p.Size
	}
	base := u.Offset - h.TailSize
	lost := keep < base
	if !lost && h.TailKey != "" {
		// Every part is there; the tail, a small object of its own, may not be.
		if ok, err := e.drv.Exists(ctx, h.TailKey); err == nil && !ok {
			lost = true
		}
	}
	if !lost && !gone {
		return nil
	}
	k := e.keys
	rw := backends.Progress{Offset: u.Offset, Handle: map[string]string{}}
	if lost {
		// Entries past keep stay in the manifest: part numbers follow
		// offsets, so resending the bytes replaces every one of them before
		// the upload is complete again.
		rw.Offset = keep
		if h.TailKey != "" {
			rw.Handle[k.TailKey], rw.Handle[k.TailSize], rw.Handle[k.StaleTail] = "", "", h.TailKey
		}
	}
	if gone {
		id, _, err := e.drv.Begin(ctx, u, h.Key)
		if err != nil {
			e.log.WarnContext(ctx, "could not begin a new session for an upload whose session is gone", "id", u.ID, "err", err)
			return nil
		}
		rw.Handle[k.UploadID] = id
	}
	// The gateway logs the rewind once it is committed.
	return &backends.LostError{Rewind: rw, Err: refusal}
}
