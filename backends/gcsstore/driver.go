package gcsstore

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"strconv"

	"cloud.google.com/go/storage"
	"golang.org/x/sync/errgroup"
	"google.golang.org/api/iterator"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/backends/bufpool"
	"github.com/tusgate/tusgate/backends/multipart"
	"github.com/tusgate/tusgate/state"
)

// partsMarker is the "session id" of an upload: its part objects are its
// session, found under its parts prefix. The engine only needs it non-empty.
const partsMarker = "objects"

// PartsInfix separates the object name from its hidden parts prefix: the
// parts of PREFIX/ID and the intermediates of composing them are objects
// under PREFIX/ID.parts/.
const PartsInfix = ".parts/"

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func (d *driver) obj(key string) *storage.ObjectHandle { return d.bucket.Object(key) }

func partsPrefix(key string) string { return key + PartsInfix }

// partName names part num of key; five digits hold MaxComponents.
func partName(key string, num int) string { return fmt.Sprintf("%s%05d", partsPrefix(key), num) }

// Begin creates nothing: parts are objects named after the upload.
func (d *driver) Begin(_ context.Context, u *state.Upload, _ string) (string, string, error) {
	// A final's parts are composed or reassembled without a digest of ours.
	if d.cfg.Checksum == ChecksumCRC32C && !u.Final() {
		return partsMarker, ChecksumCRC32C, nil
	}
	return partsMarker, "", nil
}

// Digest is CRC32C for uploads that send it (made as the bytes arrive).
func (d *driver) Digest(h multipart.Handle) hash.Hash {
	if h.Checksum == ChecksumCRC32C {
		return crc32.New(castagnoli)
	}
	return nil
}

// PutPart writes buf as the object of part num, replacing an earlier
// attempt; the generation it got is the part's id, so completion composes
// exactly the bytes the manifest recorded (a stale writer's later attempt
// has another generation, and composing fails instead of mixing it in).
func (d *driver) PutPart(ctx context.Context, h multipart.Handle, num int, buf *bufpool.Buffer) (string, string, error) {
	attrs, err := d.write(ctx, partName(h.Key, num), buf, nil)
	if err != nil {
		return "", "", err
	}
	return strconv.FormatInt(attrs.Generation, 10), crcText(buf), nil
}

// crcText is the part's CRC32C as the JSON API writes it (base64 of the
// big-endian value), or "" when buf made none.
func crcText(buf *bufpool.Buffer) string {
	h, ok := buf.Hash().(hash.Hash32)
	if !ok {
		return ""
	}
	return base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, h.Sum32()))
}

// write stores buf (nil: no bytes) as key in one request: the bytes are
// in memory already, so the SDK gets no chunk buffer of its own
// (ChunkSize 0). A CRC32C made while buf filled is sent for the service
// to verify.
func (d *driver) write(ctx context.Context, key string, buf *bufpool.Buffer, attrs *storage.ObjectAttrs) (*storage.ObjectAttrs, error) {
	out, err := do(ctx, d, func(ctx context.Context) (*storage.ObjectAttrs, error) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel() // a write that is not closed is abandoned by cancelling
		w := d.obj(key).NewWriter(ctx)
		w.ChunkSize = 0
		w.ContentType = "application/octet-stream"
		if attrs != nil {
			w.ContentType, w.ContentDisposition, w.Metadata = attrs.ContentType, attrs.ContentDisposition, attrs.Metadata
		}
		if buf != nil {
			if h, ok := buf.Hash().(hash.Hash32); ok {
				w.CRC32C, w.SendCRC32C = h.Sum32(), true
			}
			if _, err := io.Copy(w, buf.Reader()); err != nil {
				return nil, err
			}
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
		return w.Attrs(), nil
	})
	return out, classify("WriteObject", err)
}

// Complete composes the parts (by the generations in the manifest) into
// the object, with the headers and metadata of the upload, and removes
// the parts. An empty upload is written as an empty object.
func (d *driver) Complete(ctx context.Context, h multipart.Handle, u *state.Upload, parts []state.Part) error {
	attrs := objectAttrs(u)
	if len(parts) == 0 {
		_, err := d.write(ctx, h.Key, nil, attrs)
		return err
	}
	srcs := make([]*storage.ObjectHandle, len(parts))
	for i, p := range parts {
		gen, err := strconv.ParseInt(p.ETag, 10, 64)
		if err != nil {
			return fmt.Errorf("gcsstore: part %d of %s has generation %q: %w", p.Number, u.ID, p.ETag, err)
		}
		srcs[i] = d.obj(partName(h.Key, p.Number)).Generation(gen)
	}
	if err := d.compose(ctx, h.Key, srcs, attrs); err != nil {
		return err
	}
	d.dropParts(ctx, h.Key)
	return nil
}

// compose joins srcs into key with attrs, in rounds of at most
// MaxComposeSources: each round composes groups into intermediates under
// key's parts prefix (deterministic names, so a retry overwrites them),
// Concurrency groups at once. Components add up across rounds, so the
// result has as many as the sources have together.
func (d *driver) compose(ctx context.Context, key string, srcs []*storage.ObjectHandle, attrs *storage.ObjectAttrs) error {
	for round := 1; len(srcs) > MaxComposeSources; round++ {
		next := make([]*storage.ObjectHandle, (len(srcs)+MaxComposeSources-1)/MaxComposeSources)
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(d.cfg.Concurrency)
		for i := range next {
			group := srcs[i*MaxComposeSources : min((i+1)*MaxComposeSources, len(srcs))]
			name := fmt.Sprintf("%sr%d-%05d", partsPrefix(key), round, i)
			g.Go(func() error {
				a, err := d.composeOne(gctx, name, group, nil)
				if err == nil {
					next[i] = d.obj(name).Generation(a.Generation)
				}
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		srcs = next
	}
	_, err := d.composeOne(ctx, key, srcs, attrs)
	return err
}

func (d *driver) composeOne(ctx context.Context, key string, srcs []*storage.ObjectHandle, attrs *storage.ObjectAttrs) (*storage.ObjectAttrs, error) {
	a, err := do(ctx, d, func(ctx context.Context) (*storage.ObjectAttrs, error) {
		c := d.obj(key).ComposerFrom(srcs...)
		c.ContentType = "application/octet-stream"
		if attrs != nil {
			c.ContentType, c.ContentDisposition, c.Metadata = attrs.ContentType, attrs.ContentDisposition, attrs.Metadata
		}
		return c.Run(ctx)
	})
	return a, classify("ComposeObject", err)
}

// dropParts removes the parts and intermediates of a finished object;
// what fails to go is logged (Delete of the upload lists them again).
// Tidy removes the part objects of h's assembled object (multipart.Tidier).
func (d *driver) Tidy(ctx context.Context, h multipart.Handle) { d.dropParts(ctx, h.Key) }

func (d *driver) dropParts(ctx context.Context, key string) {
	if err := d.deleteUnder(ctx, partsPrefix(key)); err != nil {
		d.log.WarnContext(ctx, "could not remove part objects", "key", key, "err", err)
	}
}

// deleteUnder removes every object under prefix, 16 at a time.
func (d *driver) deleteUnder(ctx context.Context, prefix string) error {
	names, err := d.ListObjects(ctx, prefix)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for _, n := range names {
		g.Go(func() error { return d.DeleteObject(gctx, n) })
	}
	return g.Wait()
}

// Abort removes the part objects of h (and intermediates of a compose
// that was cut short).
func (d *driver) Abort(ctx context.Context, h multipart.Handle) error {
	return d.deleteUnder(ctx, partsPrefix(h.Key))
}

// Sessions: an upload's part objects are its only session, and Abort finds
// them under its name.
func (d *driver) Sessions(context.Context, string) ([]string, error) {
	return []string{partsMarker}, nil
}

// PutObject stores buf as a whole object (a tail).
func (d *driver) PutObject(ctx context.Context, key string, buf *bufpool.Buffer) error {
	_, err := d.write(ctx, key, buf, nil)
	return err
}

// OpenObject starts a ranged read (length < 0: to the end).
func (d *driver) OpenObject(ctx context.Context, key string, off, length int64) (io.ReadCloser, error) {
	r, err := do(ctx, d, func(ctx context.Context) (*storage.Reader, error) {
		return d.obj(key).NewRangeReader(ctx, off, length)
	})
	if err != nil {
		return nil, classify("ReadObject", err)
	}
	return r, nil
}

// DeleteObject removes key; a missing object is not an error.
func (d *driver) DeleteObject(ctx context.Context, key string) error {
	if key == "" {
		return nil
	}
	_, err := do(ctx, d, func(ctx context.Context) (struct{}, error) { return struct{}{}, d.obj(key).Delete(ctx) })
	if err := classify("DeleteObject", err); err != nil && !isNotFound(err) {
		return err
	}
	return nil
}

// ListObjects returns the names under prefix.
func (d *driver) ListObjects(ctx context.Context, prefix string) ([]string, error) {
	var names []string
	err := d.list(ctx, prefix, []string{"Name"}, func(a *storage.ObjectAttrs) { names = append(names, a.Name) })
	return names, err
}

// list calls each with the attributes (those named in attrs) of every
// object under prefix.
func (d *driver) list(ctx context.Context, prefix string, attrs []string, each func(*storage.ObjectAttrs)) error {
	q := &storage.Query{Prefix: prefix}
	if err := q.SetAttrSelection(attrs); err != nil {
		return err
	}
	_, err := do(ctx, d, func(ctx context.Context) (struct{}, error) {
		it := d.bucket.Objects(ctx, q)
		for {
			a, err := it.Next()
			if errors.Is(err, iterator.Done) {
				return struct{}{}, nil
			}
			if err != nil {
				return struct{}{}, classify("ListObjects", err)
			}
			each(a)
		}
	})
	return err
}

// Exists reports whether key is stored.
func (d *driver) Exists(ctx context.Context, key string) (bool, error) {
	_, err := d.attrs(ctx, key)
	if isNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

func (d *driver) attrs(ctx context.Context, key string) (*storage.ObjectAttrs, error) {
	a, err := do(ctx, d, func(ctx context.Context) (*storage.ObjectAttrs, error) { return d.obj(key).Attrs(ctx) })
	return a, classify("GetObject", err)
}

// objectAttrs are the headers and metadata of a finished object.
func objectAttrs(u *state.Upload) *storage.ObjectAttrs {
	a := backends.AttrsOf(u)
	return &storage.ObjectAttrs{ContentType: a.ContentType, ContentDisposition: a.ContentDisposition,
		Metadata: gcsMetadata(a.Metadata)}
}
