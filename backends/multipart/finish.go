package multipart

import (
	"context"
	"fmt"
	"slices"

	"github.com/tusgate/tusgate/state"
)

// Finish completes the multipart object from the manifest (never a
// listing): a remaining tail is sent as the last part first. It is
// idempotent: once the object exists, Finish only tidies up and succeeds.
func (e *Engine) Finish(ctx context.Context, u *state.Upload, parts []state.Part) error {
	h := e.HandleOf(u)
	exists, err := e.drv.Exists(ctx, h.Key)
	if err != nil {
		return err
	}
	if exists {
		if t, ok := e.drv.(Tidier); ok {
			t.Tidy(ctx, h)
		}
		e.dropTails(ctx, h)
		return nil
	}
	if err := h.Check(u); err != nil {
		return err
	}
	if u.Length < 0 || u.Offset != u.Length {
		return fmt.Errorf("multipart: finish %s: only %d of %d bytes received", u.ID, u.Offset, u.Length)
	}
	parts = slices.Clone(parts)
	slices.SortFunc(parts, func(a, b state.Part) int { return a.Number - b.Number })
	committed := parts
	if h.TailSize > 0 {
		last, err := e.tailAsPart(ctx, h, u.Offset-h.TailSize)
		if err != nil {
			if lost := e.survey(ctx, h, u, committed, err); lost != nil {
				return lost
			}
			return fmt.Errorf("multipart: finish %s: %w", u.ID, err)
		}
		committed = slices.DeleteFunc(parts, func(p state.Part) bool { return p.Number >= last.Number })
		parts = append(slices.Clip(committed), last)
	}
	if err := checkManifest(parts, u.Length, h.Checksum != ""); err != nil {
		return fmt.Errorf("multipart: finish %s: %w", u.ID, err)
	}
	if err := e.drv.Complete(ctx, h, u, parts); err != nil {
		if lost := e.survey(ctx, h, u, committed, err); lost != nil {
			return lost
		}
		return err
	}
	e.dropTails(ctx, h)
	return nil
}

// tailAsPart uploads the committed tail as the part starting at base; the
// last part may have any size.
func (e *Engine) tailAsPart(ctx context.Context, h Handle, base int64) (state.Part, error) {
	buf, err := e.NewBuffer(ctx, h.TailSize, h)
	if err != nil {
		return state.Part{}, fmt.Errorf("multipart: tail buffer: %w", err)
	}
	defer buf.Release()
	if err := e.readObject(ctx, h.TailKey, 0, h.TailSize, buf); err != nil {
		return state.Part{}, err
	}
	num := h.Layout.At(base).Num
	etag, sum, err := e.drv.PutPart(ctx, h, num, buf)
	if err != nil {
		return state.Part{}, err
	}
	return state.Part{Number: num, Offset: base, Size: h.TailSize, ETag: etag, Checksum: sum}, nil
}

// checkManifest refuses to assemble anything but a gapless run of parts
// covering exactly length bytes.
func checkManifest(parts []state.Part, length int64, checksums bool) error {
	var off int64
	for i, p := range parts {
		switch {
		case p.Number != i+1:
			return fmt.Errorf("manifest has part %d where part %d belongs", p.Number, i+1)
		case p.Offset != off || p.Size <= 0:
			return fmt.Errorf("part %d covers %d+%d, want offset %d", p.Number, p.Offset, p.Size, off)
		case p.ETag == "":
			return fmt.Errorf("part %d has no ETag", p.Number)
		case checksums && p.Checksum == "":
			return fmt.Errorf("part %d has no checksum", p.Number)
		}
		off += p.Size
	}
	if off != length {
		return fmt.Errorf("manifest covers %d bytes, upload has %d", off, length)
	}
	return nil
}

// dropTails removes the tail objects of a finished upload: the ones the
// record names, and strays. A tail is written before the commit that
// records it, so a replica killed in between (or a commit whose reply was
// lost) leaves a tail no record names; tails have unique names under the
// upload's tail prefix, so one listing at completion, once per upload,
// finds them.
func (e *Engine) dropTails(ctx context.Context, h Handle) {
	e.deleteQuietly(ctx, h.TailKey)
	e.deleteQuietly(ctx, h.StaleTail)
	strays, err := e.drv.ListObjects(ctx, h.Key+TailInfix)
	if err != nil {
		e.log.WarnContext(ctx, "could not list stray tails", "key", h.Key, "err", err)
		return
	}
	for _, k := range strays {
		if k != h.TailKey && k != h.StaleTail {
			e.deleteQuietly(ctx, k)
		}
	}
}
