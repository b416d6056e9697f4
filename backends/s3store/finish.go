package s3store

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/tusgate/tusgate/state"
)

// Finish completes the multipart upload from the manifest (never a
// listing): a remaining tail is sent as the last part first. It is
// idempotent: once the object exists, Finish only tidies up and succeeds.
func (s *Store) Finish(ctx context.Context, u *state.Upload, parts []state.Part) error {
	h := handleOf(s.cfg, u)
	exists, err := s.objectExists(ctx, h.key)
	if err != nil {
		return err
	}
	if exists {
		s.dropTails(ctx, h)
		return nil
	}
	if err := h.check(u); err != nil {
		return err
	}
	if u.Length < 0 || u.Offset != u.Length {
		return fmt.Errorf("s3store: finish %s: only %d of %d bytes received", u.ID, u.Offset, u.Length)
	}
	parts = slices.Clone(parts)
	slices.SortFunc(parts, func(a, b state.Part) int { return a.Number - b.Number })
	if h.tailSize > 0 {
		last, err := s.tailAsPart(ctx, h, u.Offset-h.tailSize)
		if err != nil {
			return fmt.Errorf("s3store: finish %s: %w", u.ID, err)
		}
		parts = slices.DeleteFunc(parts, func(p state.Part) bool { return p.Number >= last.Number })
		parts = append(parts, last)
	}
	if err := checkManifest(parts, u.Length, h.checksum != ""); err != nil {
		return fmt.Errorf("s3store: finish %s: %w", u.ID, err)
	}
	if u.Length == 0 {
		if err := s.putEmpty(ctx, u, h.key); err != nil {
			return err
		}
		return s.abort(ctx, h)
	}
	if err := s.complete(ctx, h, parts); err != nil {
		return err
	}
	s.dropTails(ctx, h)
	return nil
}

// tailAsPart uploads the committed tail as the part starting at base; S3
// accepts a last part of any size.
func (s *Store) tailAsPart(ctx context.Context, h handle, base int64) (state.Part, error) {
	buf, err := s.newBuffer(ctx, h.tailSize, h)
	if err != nil {
		return state.Part{}, fmt.Errorf("s3store: tail buffer: %w", err)
	}
	defer buf.Release()
	if err := s.readRange(ctx, h.tailKey, 0, h.tailSize, buf); err != nil {
		return state.Part{}, err
	}
	num := h.layout.at(base).num
	etag, crc, err := s.uploadPart(ctx, h, num, buf)
	if err != nil {
		return state.Part{}, err
	}
	return state.Part{Number: num, Offset: base, Size: h.tailSize, ETag: etag, Checksum: crc}, nil
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

// complete assembles the object. When S3 no longer knows the upload, an
// earlier attempt (or a retry the SDK made) may have completed it: the
// object's existence decides.
func (s *Store) complete(ctx context.Context, h handle, parts []state.Part) error {
	done := make([]types.CompletedPart, len(parts))
	for i, p := range parts {
		done[i] = types.CompletedPart{PartNumber: aws.Int32(int32(p.Number)), ETag: aws.String(p.ETag)}
		if h.checksum == ChecksumCRC32C {
			done[i].ChecksumCRC32C = aws.String(p.Checksum)
		}
	}
	in := &s3.CompleteMultipartUploadInput{
		Bucket:          &s.cfg.Bucket,
		Key:             &h.key,
		UploadId:        &h.uploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done},
	}
	_, err := do(ctx, s, func(ctx context.Context) (*s3.CompleteMultipartUploadOutput, error) {
		return s.client.CompleteMultipartUpload(ctx, in)
	})
	err = classify("CompleteMultipartUpload", err)
	if isNotFound(err) {
		if ok, herr := s.objectExists(ctx, h.key); herr == nil && ok {
			return nil
		}
	}
	return err
}

// dropTails removes the tail objects of a finished upload.
func (s *Store) dropTails(ctx context.Context, h handle) {
	s.deleteQuietly(ctx, h.tailKey)
	s.deleteQuietly(ctx, h.staleTail)
}
