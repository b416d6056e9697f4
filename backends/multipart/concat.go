package multipart

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/state"
)

// Source is one partial object of a concatenation.
type Source struct {
	Key  string
	Size int64
}

// Segment is a byte range of a source.
type Segment struct {
	Key      string
	Off, Len int64
	Whole    bool // the segment is the entire source object
}

// ConcatPart is one part of the final upload: copied server-side when it is
// a single segment, else assembled from reads of its segments.
type ConcatPart struct {
	Number int
	Copy   bool
	Segs   []Segment
	Size   int64
}

// PlanConcat cuts the concatenation of srcs into parts. With copies
// offered, a part that fits inside one source is copied; a part spanning
// sources, or the small rest of one, is read and uploaded, so any mix of
// sizes works. Every part but the last is at least partSize, so the plan
// has no more parts than an upload of the same length (partSize was chosen
// for it). With EqualParts every part but the last is exactly partSize;
// otherwise copies take a whole source (up to the largest part) to avoid
// reading bytes.
func (c Config) PlanConcat(srcs []Source, partSize int64, copies bool) []ConcatPart {
	var nonEmpty []Source
	for _, s := range srcs {
		if s.Size > 0 {
			nonEmpty = append(nonEmpty, s)
		}
	}
	var parts []ConcatPart
	i, pos := 0, int64(0) // current source and offset in it
	advance := func(n int64) {
		pos += n
		if pos == nonEmpty[i].Size {
			i, pos = i+1, 0
		}
	}
	for i < len(nonEmpty) {
		src := nonEmpty[i]
		rem := src.Size - pos
		last := i == len(nonEmpty)-1
		n := min(rem, c.MaxPartSize)
		if c.EqualParts {
			n = min(rem, partSize)
		}
		whole := pos == 0 && n == src.Size
		if copies && (rem >= partSize || last) && (whole || src.Size > c.CopyRangeMin) {
			parts = append(parts, ConcatPart{Number: len(parts) + 1, Copy: true, Size: n,
				Segs: []Segment{{Key: src.Key, Off: pos, Len: n, Whole: whole}}})
			advance(n)
			continue
		}
		p := ConcatPart{Number: len(parts) + 1}
		for p.Size < partSize && i < len(nonEmpty) {
			take := min(partSize-p.Size, nonEmpty[i].Size-pos)
			p.Segs = append(p.Segs, Segment{Key: nonEmpty[i].Key, Off: pos, Len: take})
			p.Size += take
			advance(take)
		}
		parts = append(parts, p)
	}
	return parts
}

// Concat builds final from the finished partials inside the store: parts
// within one partial are copied server-side where the driver can, the rest
// is read (at most a part at a time per worker, from the buffer pool) and
// uploaded. It completes the object; a later Finish sees it and succeeds.
func (e *Engine) Concat(ctx context.Context, final *state.Upload, partials []*state.Upload) error {
	h := e.HandleOf(final)
	if exists, err := e.drv.Exists(ctx, h.Key); err != nil || exists {
		return err
	}
	if h.UploadID == "" || !h.Layout.Valid() {
		return fmt.Errorf("multipart: concat %s: no multipart upload in its handle", final.ID)
	}
	if h.Checksum != "" {
		// Drivers begin finals without: copied parts come without checksums.
		return fmt.Errorf("multipart: concat %s: its multipart upload expects %s checksums", final.ID, h.Checksum)
	}
	srcs := make([]Source, len(partials))
	var total int64
	for i, p := range partials {
		if p.Length < 0 || p.Offset != p.Length {
			return fmt.Errorf("multipart: concat %s: partial %s is not complete", final.ID, p.ID)
		}
		srcs[i] = Source{Key: e.HandleOf(p).Key, Size: p.Length}
		total += p.Length
	}
	if final.Length >= 0 && total != final.Length {
		return fmt.Errorf("multipart: concat %s: partials hold %d bytes, final has %d", final.ID, total, final.Length)
	}
	if total == 0 {
		return e.drv.Complete(ctx, h, final, nil)
	}
	ps, err := e.ConcatPartSize(h.Layout, total)
	if err != nil {
		return fmt.Errorf("multipart: concat %s: %w", final.ID, err)
	}
	plan := e.cfg.PlanConcat(srcs, ps, e.copier != nil)
	if len(plan) > e.cfg.MaxParts {
		return fmt.Errorf("multipart: concat %s needs %d parts, the store allows %d", final.ID, len(plan), e.cfg.MaxParts)
	}
	parts, err := e.runConcat(ctx, h, plan)
	if err != nil {
		return fmt.Errorf("multipart: concat %s: %w", final.ID, err)
	}
	return e.drv.Complete(ctx, h, final, parts)
}

// ConcatPartSize is the part size the plan of a final upload aims for. A
// final created with a known length has a fixed layout made for it. One
// created while a partial's length was deferred got the doubling layout;
// Concat writes all its parts in one go, so their numbers need not follow
// that layout, and the fixed size a known-length upload of total bytes
// gets keeps the assembled parts small. Assembled parts are buffered
// whole, so the size must fit the memory budget.
func (e *Engine) ConcatPartSize(l Layout, total int64) (int64, error) {
	ps := l.base
	if !l.Fixed() {
		var err error
		if ps, err = e.cfg.PartSizeFor(total); err != nil {
			return 0, err
		}
	}
	if budget := e.pool.Budget(); ps > budget {
		return 0, fmt.Errorf("%w: %d bytes need parts of %d bytes, more than the memory budget of %d bytes",
			backends.ErrTooLarge, total, ps, budget)
	}
	return ps, nil
}

// runConcat stores the planned parts, Concurrency at a time; the first
// failure cancels the rest.
func (e *Engine) runConcat(ctx context.Context, h Handle, plan []ConcatPart) ([]state.Part, error) {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.cfg.Concurrency)
	parts := make([]state.Part, len(plan))
	var off int64
	for i, p := range plan {
		parts[i] = state.Part{Number: p.Number, Offset: off, Size: p.Size}
		off += p.Size
		if gctx.Err() != nil {
			break // a part failed or the caller gave up
		}
		g.Go(func() error {
			etag, err := e.storeConcatPart(gctx, h, p)
			parts[i].ETag = etag
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return parts, nil
}

func (e *Engine) storeConcatPart(ctx context.Context, h Handle, p ConcatPart) (string, error) {
	if p.Copy {
		etag, err := e.copier.CopyPart(ctx, h, p.Number, p.Segs[0])
		switch {
		case err == nil && etag == "":
			return "", fmt.Errorf("multipart: copy of part %d returned no id", p.Number)
		case err == nil:
			return etag, nil
		case !errors.Is(err, ErrCopyUnsupported):
			return "", err
		}
		// Streamed below instead.
	}
	buf, err := e.NewBuffer(ctx, p.Size, h)
	if err != nil {
		return "", fmt.Errorf("multipart: part buffer: %w", err)
	}
	defer buf.Release()
	for _, seg := range p.Segs {
		if err := e.readObject(ctx, seg.Key, seg.Off, seg.Len, buf); err != nil {
			return "", err
		}
	}
	etag, _, err := e.drv.PutPart(ctx, h, p.Number, buf)
	return etag, err
}
