package azblobstore

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/backends/bufpool"
	"github.com/tusgate/tusgate/backends/multipart"
	"github.com/tusgate/tusgate/state"
)

// stagedMarker is the "session id" of an upload: Azure has none, a blob's
// uncommitted blocks are its session. The engine only needs it non-empty.
const stagedMarker = "blocks"

// copySASLifetime bounds the SAS a server-side copy reads its source with.
const copySASLifetime = time.Hour

// blockID names part num. Azure wants the ids of one blob of equal length;
// five digits hold MaxBlocks.
func blockID(num int) string {
	return base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "tusgate-part-%05d", num))
}

func (d *driver) blob(key string) *blockblob.Client { return d.container.NewBlockBlobClient(key) }

// Begin stages nothing yet: blocks are staged against the blob name.
func (d *driver) Begin(_ context.Context, u *state.Upload, _ string) (string, string, error) {
	// A final concatenation's blocks are copied inside the service, which
	// gives them no digest of ours.
	if d.cfg.Checksum == ChecksumMD5 && !u.Final() {
		return stagedMarker, ChecksumMD5, nil
	}
	return stagedMarker, "", nil
}

// Digest is MD5 for uploads that send it (made as the bytes arrive).
func (d *driver) Digest(h multipart.Handle) hash.Hash {
	if h.Checksum == ChecksumMD5 {
		return md5.New()
	}
	return nil
}

// validation is the transactional MD5 of buf, when it made one.
func validation(buf *bufpool.Buffer) (blob.TransferValidationType, string) {
	if d := buf.Hash(); d != nil {
		sum := d.Sum(nil)
		return blob.TransferValidationTypeMD5(sum), base64.StdEncoding.EncodeToString(sum)
	}
	return nil, ""
}

// PutPart stages buf as the block of part num; a block staged again under
// the same id replaces the earlier one.
func (d *driver) PutPart(ctx context.Context, h multipart.Handle, num int, buf *bufpool.Buffer) (string, string, error) {
	id := blockID(num)
	v, sum := validation(buf)
	_, err := do(ctx, d, func(ctx context.Context) (blockblob.StageBlockResponse, error) {
		return d.blob(h.Key).StageBlock(ctx, id, streaming.NopCloser(buf.Reader()),
			&blockblob.StageBlockOptions{TransactionalValidation: v})
	})
	if err != nil {
		return "", "", classify("StageBlock", err)
	}
	return id, sum, nil
}

// Complete commits the block list with the object's headers and metadata.
// An empty list makes an empty blob. A second commit of the same list (a
// retry after a lost answer) finds the blocks committed and succeeds.
func (d *driver) Complete(ctx context.Context, h multipart.Handle, u *state.Upload, parts []state.Part) error {
	ids := make([]string, len(parts))
	for i, p := range parts {
		ids[i] = p.ETag
	}
	a := backends.AttrsOf(u)
	opts := &blockblob.CommitBlockListOptions{
		HTTPHeaders: &blob.HTTPHeaders{BlobContentType: to.Ptr(a.ContentType)},
		Metadata:    azureMetadata(a.Metadata),
	}
	if a.ContentDisposition != "" {
		opts.HTTPHeaders.BlobContentDisposition = to.Ptr(a.ContentDisposition)
	}
	_, err := do(ctx, d, func(ctx context.Context) (blockblob.CommitBlockListResponse, error) {
		return d.blob(h.Key).CommitBlockList(ctx, ids, opts)
	})
	if err != nil && bloberror.HasCode(err, bloberror.InvalidBlockList) {
		if ok, herr := d.Exists(ctx, h.Key); herr == nil && ok {
			return nil
		}
	}
	return classify("CommitBlockList", err)
}

// Abort drops the staged blocks. Azure has no call for that: deleting the
// blob drops them with it, and a blob that has only staged blocks does not
// exist yet, so an empty block list is committed first to make it one.
func (d *driver) Abort(ctx context.Context, h multipart.Handle) error {
	if err := d.DeleteObject(ctx, h.Key); err != nil {
		return err
	}
	_, err := do(ctx, d, func(ctx context.Context) (blockblob.GetBlockListResponse, error) {
		return d.blob(h.Key).GetBlockList(ctx, blockblob.BlockListTypeUncommitted, nil)
	})
	if err == nil || !isNotFound(classify("GetBlockList", err)) {
		// Staged blocks (or an answer we cannot read): make the blob and drop it.
		_, cerr := do(ctx, d, func(ctx context.Context) (blockblob.CommitBlockListResponse, error) {
			return d.blob(h.Key).CommitBlockList(ctx, nil, nil)
		})
		if cerr != nil {
			return classify("CommitBlockList", cerr)
		}
		return d.DeleteObject(ctx, h.Key)
	}
	return nil
}

// Sessions: a blob's staged blocks are its only session, and Abort finds
// them under the name.
func (d *driver) Sessions(context.Context, string) ([]string, error) {
	return []string{stagedMarker}, nil
}

// PutObject stores buf as a whole blob (a tail).
func (d *driver) PutObject(ctx context.Context, key string, buf *bufpool.Buffer) error {
	v, _ := validation(buf)
	_, err := do(ctx, d, func(ctx context.Context) (blockblob.UploadResponse, error) {
		return d.blob(key).Upload(ctx, streaming.NopCloser(buf.Reader()), &blockblob.UploadOptions{TransactionalValidation: v})
	})
	return classify("PutBlob", err)
}

// OpenObject starts a ranged GET of length bytes from off (length < 0: to
// the end, which Azure spells as a count of 0).
func (d *driver) OpenObject(ctx context.Context, key string, off, length int64) (io.ReadCloser, error) {
	rng := blob.HTTPRange{Offset: off, Count: max(length, 0)}
	resp, err := do(ctx, d, func(ctx context.Context) (blob.DownloadStreamResponse, error) {
		return d.blob(key).DownloadStream(ctx, &blob.DownloadStreamOptions{Range: rng})
	})
	if err != nil {
		return nil, classify("GetBlob", err)
	}
	return resp.Body, nil
}

// DeleteObject removes key; a missing blob is not an error.
func (d *driver) DeleteObject(ctx context.Context, key string) error {
	if key == "" {
		return nil
	}
	_, err := do(ctx, d, func(ctx context.Context) (blob.DeleteResponse, error) {
		return d.blob(key).Delete(ctx, nil)
	})
	if err := classify("DeleteBlob", err); err != nil && !isNotFound(err) {
		return err
	}
	return nil
}

// ListObjects returns the names under prefix.
func (d *driver) ListObjects(ctx context.Context, prefix string) ([]string, error) {
	var names []string
	p := d.container.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: &prefix})
	for p.More() {
		page, err := do(ctx, d, func(ctx context.Context) (container.ListBlobsFlatResponse, error) { return p.NextPage(ctx) })
		if err != nil {
			return nil, classify("ListBlobs", err)
		}
		if page.Segment == nil {
			continue
		}
		for _, b := range page.Segment.BlobItems {
			if b.Name != nil {
				names = append(names, *b.Name)
			}
		}
	}
	return names, nil
}

// Exists reports whether the blob key is committed.
func (d *driver) Exists(ctx context.Context, key string) (bool, error) {
	_, err := do(ctx, d, func(ctx context.Context) (blob.GetPropertiesResponse, error) {
		return d.blob(key).GetProperties(ctx, nil)
	})
	err = classify("GetBlobProperties", err)
	if isNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// CopyPart stages a range of a finished blob as a block with Put Block From
// URL; the service reads the source through a short-lived SAS. Without an
// account key, or where the service refuses, the engine streams the part.
func (d *driver) CopyPart(ctx context.Context, h multipart.Handle, num int, seg multipart.Segment) (string, error) {
	if !d.sharedKey {
		return "", multipart.ErrCopyUnsupported
	}
	src, err := d.blob(seg.Key).GetSASURL(sas.BlobPermissions{Read: true}, time.Now().Add(copySASLifetime), nil)
	if err != nil {
		return "", fmt.Errorf("azblobstore: SAS for %s: %w: %w", seg.Key, multipart.ErrCopyUnsupported, err)
	}
	id := blockID(num)
	_, err = do(ctx, d, func(ctx context.Context) (blockblob.StageBlockFromURLResponse, error) {
		return d.blob(h.Key).StageBlockFromURL(ctx, id, src,
			&blockblob.StageBlockFromURLOptions{Range: blob.HTTPRange{Offset: seg.Off, Count: seg.Len}})
	})
	if err != nil {
		err = classify("StageBlockFromURL", err)
		if copyRefused(err) {
			d.log.WarnContext(ctx, "server-side copy refused; streaming the part", "err", err)
			return "", fmt.Errorf("%w: %w", multipart.ErrCopyUnsupported, err)
		}
		return "", err
	}
	return id, nil
}

// copyRefused: the service cannot or may not copy (old emulators, missing
// permissions), as opposed to failing.
func copyRefused(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code {
	case string(bloberror.CannotVerifyCopySource), string(bloberror.AuthorizationPermissionMismatch),
		string(bloberror.AuthorizationFailure), string(bloberror.FeatureVersionMismatch):
		return true
	}
	return e.Status == 501 || e.Status == 403 || (e.Status == 400 && e.Code == "")
}
