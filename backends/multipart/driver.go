package multipart

import (
	"context"
	"errors"
	"hash"
	"io"

	"github.com/tusgate/tusgate/backends/bufpool"
	"github.com/tusgate/tusgate/state"
)

// Driver is what differs per object store: how a multipart object is begun,
// fed, completed and dropped, and how small whole objects (tails) are kept.
// Everything else (layouts, buffers, parts in flight, commits, tails,
// finish, concatenation) is the engine's. Errors are classified against the
// backends sentinels by the driver.
type Driver interface {
	// Begin starts the multipart object key for u and returns the store's
	// session id (non-empty) and the integrity digest its parts carry
	// ("" for none), both kept in the handle.
	Begin(ctx context.Context, u *state.Upload, key string) (uploadID, checksum string, err error)
	// Digest returns the hash a buffer for h computes while it fills (nil:
	// none), so the bytes are digested once, cache-hot; PutPart and
	// PutObject read it from buf.Hash().
	Digest(h Handle) hash.Hash
	// PutPart stores buf as part num of h, replacing an earlier attempt, and
	// returns the id completion needs (ETag, block id; non-empty) and the
	// part's checksum ("" when h has none).
	PutPart(ctx context.Context, h Handle, num int, buf *bufpool.Buffer) (etag, checksum string, err error)
	// Complete assembles the object of h from parts, a gapless run from
	// part 1 (none for an empty upload). When an earlier attempt completed
	// it already, it succeeds.
	Complete(ctx context.Context, h Handle, u *state.Upload, parts []state.Part) error
	// Abort drops the parts of h's session; a missing session is no error.
	Abort(ctx context.Context, h Handle) error
	// Sessions lists the sessions pending under key, for a record written
	// before Create could store its session id (creation crashed between).
	Sessions(ctx context.Context, key string) ([]string, error)

	// PutObject, OpenObject, DeleteObject, ListObjects and Exists work on
	// whole objects: tails, and the finished object. OpenObject streams
	// length bytes from off (length < 0: to the end; never 0), for reading
	// tails back and for downloads; DeleteObject of a missing object (or
	// "") succeeds.
	PutObject(ctx context.Context, key string, buf *bufpool.Buffer) error
	OpenObject(ctx context.Context, key string, off, length int64) (io.ReadCloser, error)
	DeleteObject(ctx context.Context, key string) error
	ListObjects(ctx context.Context, prefix string) ([]string, error)
	Exists(ctx context.Context, key string) (bool, error)
}

// PartCopier is the optional server-side copy of a byte range of a finished
// object into a part. Concatenation uses it where offered; a copy that
// fails with ErrCopyUnsupported is streamed through a buffer instead.
type PartCopier interface {
	CopyPart(ctx context.Context, h Handle, num int, seg Segment) (etag string, err error)
}

// Tidier is the optional removal of what a completed object's parts leave
// behind, for stores whose parts outlive completion (GCS part objects).
// Complete tidies after itself; Finish calls Tidy when it finds the object
// already assembled, because the process that assembled it may have died
// before tidying. Failures are the driver's to log: garbage, not loss.
type Tidier interface {
	Tidy(ctx context.Context, h Handle)
}

// ErrCopyUnsupported: the store (or the credentials) cannot copy this
// range server-side; the engine reads and uploads it instead.
var ErrCopyUnsupported = errors.New("multipart: server-side copy not available")
