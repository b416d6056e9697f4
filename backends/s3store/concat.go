package s3store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/state"
)

// copyRangeMin: S3 copies a byte range of a source only when the source is
// larger than 5 MB; smaller sources are copied whole or read.
const copyRangeMin = 5 * MiB

// source is one partial object of a concatenation.
type source struct {
	key  string
	size int64
}

// segment is a byte range of a source.
type segment struct {
	key      string
	off, len int64
	whole    bool // the segment is the entire source object
}

// concatPart is one part of the final upload: copied server-side when it is
// a single segment, else assembled from reads of its segments.
type concatPart struct {
	number int
	copy   bool
	segs   []segment
	size   int64
}

// planConcat cuts the concatenation of srcs into parts. A part that fits
// inside one source is copied (UploadPartCopy); a part spanning sources, or
// the small rest of one, is read and uploaded, so any mix of sizes works.
// Every part but the last is at least partSize, so the plan has no more
// parts than an upload of the same length (partSize was chosen for it). In
// equal mode every part but the last is exactly partSize; otherwise copies
// take a whole source (up to the 5 GiB part limit) to avoid reading bytes.
func planConcat(srcs []source, partSize int64, equal bool) []concatPart {
	var nonEmpty []source
	for _, s := range srcs {
		if s.size > 0 {
			nonEmpty = append(nonEmpty, s)
		}
	}
	var parts []concatPart
	i, pos := 0, int64(0) // current source and offset in it
	advance := func(n int64) {
		pos += n
		if pos == nonEmpty[i].size {
			i, pos = i+1, 0
		}
	}
	for i < len(nonEmpty) {
		src := nonEmpty[i]
		rem := src.size - pos
		last := i == len(nonEmpty)-1
		n := rem
		if equal {
			n = min(rem, partSize)
		} else {
			n = min(rem, MaxPartSize)
		}
		whole := pos == 0 && n == src.size
		if (rem >= partSize || last) && (whole || src.size > copyRangeMin) {
			parts = append(parts, concatPart{number: len(parts) + 1, copy: true, size: n,
				segs: []segment{{key: src.key, off: pos, len: n, whole: whole}}})
			advance(n)
			continue
		}
		p := concatPart{number: len(parts) + 1}
		for p.size < partSize && i < len(nonEmpty) {
			take := min(partSize-p.size, nonEmpty[i].size-pos)
			p.segs = append(p.segs, segment{key: nonEmpty[i].key, off: pos, len: take})
			p.size += take
			advance(take)
		}
		parts = append(parts, p)
	}
	return parts
}

// Concat builds final from the finished partials inside S3: parts within one
// partial are copied server-side, the rest is read (at most a part at a
// time per worker, from the buffer pool) and uploaded. It completes the
// multipart upload; a later Finish sees the object and succeeds.
func (s *Store) Concat(ctx context.Context, final *state.Upload, partials []*state.Upload) error {
	h := handleOf(s.cfg, final)
	if exists, err := s.objectExists(ctx, h.key); err != nil || exists {
		return err
	}
	if h.uploadID == "" || !h.layout.valid() {
		return fmt.Errorf("s3store: concat %s: no multipart upload in its handle", final.ID)
	}
	if h.checksum != "" {
		// Create gives finals none: copied parts come without checksums.
		return fmt.Errorf("s3store: concat %s: its multipart upload expects %s checksums", final.ID, h.checksum)
	}
	srcs := make([]source, len(partials))
	var total int64
	for i, p := range partials {
		if p.Length < 0 || p.Offset != p.Length {
			return fmt.Errorf("s3store: concat %s: partial %s is not complete", final.ID, p.ID)
		}
		srcs[i] = source{key: handleOf(s.cfg, p).key, size: p.Length}
		total += p.Length
	}
	if final.Length >= 0 && total != final.Length {
		return fmt.Errorf("s3store: concat %s: partials hold %d bytes, final has %d", final.ID, total, final.Length)
	}
	if total == 0 {
		if err := s.putEmpty(ctx, final, h.key); err != nil {
			return err
		}
		return s.abort(ctx, h)
	}
	ps, err := s.concatPartSize(h.layout, total)
	if err != nil {
		return fmt.Errorf("s3store: concat %s: %w", final.ID, err)
	}
	plan := planConcat(srcs, ps, s.cfg.EqualParts)
	if len(plan) > MaxParts {
		return fmt.Errorf("s3store: concat %s needs %d parts, S3 allows %d", final.ID, len(plan), MaxParts)
	}
	parts, err := s.runConcat(ctx, h, plan)
	if err != nil {
		return fmt.Errorf("s3store: concat %s: %w", final.ID, err)
	}
	return s.complete(ctx, h, parts)
}

// concatPartSize is the part size the plan of a final upload aims for. A
// final created with a known length has a fixed layout made for it. One
// created while a partial's length was deferred got the doubling layout;
// Concat writes all its parts in one go, so their numbers need not follow
// that layout, and the fixed size a known-length upload of total bytes
// gets keeps the assembled parts small. Assembled parts are buffered
// whole, so the size must fit the memory budget.
func (s *Store) concatPartSize(l layout, total int64) (int64, error) {
	ps := l.base
	if !l.fixed() {
		var err error
		if ps, err = s.cfg.PartSizeFor(total); err != nil {
			return 0, err
		}
	}
	if budget := s.pool.Budget(); ps > budget {
		return 0, fmt.Errorf("%w: %d bytes need parts of %d bytes, more than the memory budget of %d bytes",
			backends.ErrTooLarge, total, ps, budget)
	}
	return ps, nil
}

// runConcat stores the planned parts, Concurrency at a time.
func (s *Store) runConcat(ctx context.Context, h handle, plan []concatPart) ([]state.Part, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	parts := make([]state.Part, len(plan))
	errs := make([]error, len(plan))
	slots := make(chan struct{}, s.cfg.Concurrency)
	var wg sync.WaitGroup
	var off int64
	for i, p := range plan {
		parts[i] = state.Part{Number: p.number, Offset: off, Size: p.size}
		off += p.size
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break // a part failed or the caller gave up
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			parts[i].ETag, errs[i] = s.storeConcatPart(ctx, h, p)
			if errs[i] != nil {
				cancel()
			}
		}()
	}
	wg.Wait()
	// Report the failure that stopped the others, not their cancellation.
	var first error
	for _, err := range errs {
		if err != nil && (first == nil || errors.Is(first, context.Canceled)) {
			first = err
		}
	}
	if first != nil {
		return nil, first
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return parts, nil
}

func (s *Store) storeConcatPart(ctx context.Context, h handle, p concatPart) (string, error) {
	if p.copy {
		seg := p.segs[0]
		in := &s3.UploadPartCopyInput{
			Bucket:     &s.cfg.Bucket,
			Key:        &h.key,
			UploadId:   &h.uploadID,
			PartNumber: aws.Int32(int32(p.number)),
			CopySource: aws.String(copySource(s.cfg.Bucket, seg.key)),
		}
		if !seg.whole {
			in.CopySourceRange = aws.String(fmt.Sprintf("bytes=%d-%d", seg.off, seg.off+seg.len-1))
		}
		out, err := do(ctx, s, func(ctx context.Context) (*s3.UploadPartCopyOutput, error) {
			return s.client.UploadPartCopy(ctx, in)
		})
		if err != nil {
			return "", classify("UploadPartCopy", err)
		}
		if out.CopyPartResult == nil || aws.ToString(out.CopyPartResult.ETag) == "" {
			return "", fmt.Errorf("s3store: UploadPartCopy of part %d returned no ETag", p.number)
		}
		return aws.ToString(out.CopyPartResult.ETag), nil
	}
	buf, err := s.newBuffer(ctx, p.size, h)
	if err != nil {
		return "", fmt.Errorf("s3store: part buffer: %w", err)
	}
	defer buf.Release()
	for _, seg := range p.segs {
		if err := s.readRange(ctx, seg.key, seg.off, seg.len, buf); err != nil {
			return "", err
		}
	}
	etag, _, err := s.uploadPart(ctx, h, p.number, buf)
	return etag, err
}

// copySource is "bucket/key" with the key URL-encoded, as x-amz-copy-source
// wants it.
func copySource(bucket, key string) string {
	segs := strings.Split(key, "/")
	for i, seg := range segs {
		segs[i] = url.PathEscape(seg)
	}
	return bucket + "/" + strings.Join(segs, "/")
}
