// Package state defines where tusgate keeps upload state (offset, length,
// metadata, backend handles, the part manifest) and how one writer per upload
// is enforced. Implementations live in subpackages; this package holds only the
// interfaces, the record types and the sentinel errors, so the gateway and the
// backends never import a database client.
package state

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors. Implementations wrap them with %w so callers test with
// errors.Is; the gateway maps them to HTTP statuses in one place.
var (
	// ErrNotFound: no upload with that ID (never created, deleted or swept).
	ErrNotFound = errors.New("upload not found")
	// ErrExists: Create was called with an ID that is already taken.
	ErrExists = errors.New("upload already exists")
	// ErrFenced: the caller's fencing token is no longer the current grant;
	// another request owns the upload now and this one must stop.
	ErrFenced = errors.New("lease lost: fencing token is no longer current")
	// ErrConflict: the stored offset is not the one the commit expected.
	ErrConflict = errors.New("upload offset changed concurrently")
	// ErrLocked: the upload's lock could not be taken before the wait ended.
	ErrLocked = errors.New("upload is locked by another request")
	// ErrUnavailable: the store cannot be reached; the request may be retried.
	ErrUnavailable = errors.New("state store unavailable")
	// ErrNotApplied accompanies a failed Commit that surely changed nothing
	// (fenced, conflicting, or never sent: the connection could not be
	// made). A backend may then delete what only that commit would have
	// referenced; after any other failure the commit may have applied.
	ErrNotApplied = errors.New("commit surely not applied")
)

// MaxStopReason bounds the note Store.Stop keeps.
const MaxStopReason = 8 << 10

// TerminatedAt is the expiry that marks an upload for removal: termination
// commits it before anything is deleted, so a removal cut short by a crash
// is completed by the sweeper. Expired returns such uploads even when they
// are finished.
var TerminatedAt = time.Unix(1, 0).UTC()

// Terminated reports whether u is marked for removal.
func (u *Upload) Terminated() bool { return u.ExpiresAt.Equal(TerminatedAt) }

// Token is a fencing token. Every lock grant for an upload carries a token
// greater than any earlier grant for the same upload.
type Token uint64

// Upload is the record of one tus upload.
type Upload struct {
	ID string
	// Length is the total size in bytes, or -1 while the length is deferred.
	Length int64
	// Offset counts bytes that are durable in the backend.
	Offset int64
	// Metadata is the raw Upload-Metadata header, echoed byte for byte.
	Metadata string
	// Concat is the raw Upload-Concat header ("" when not concatenation).
	Concat string
	// Partial marks an Upload-Concat: partial upload.
	Partial bool
	// Partials lists, for a final upload, the IDs of its partials in order.
	Partials []string
	// Owner is the authenticated subject that created the upload (empty
	// without authentication); only requests of the same subject may touch it.
	Owner     string
	CreatedAt time.Time
	// ExpiresAt is when an unfinished upload may be swept; zero means never.
	ExpiresAt time.Time
	// Finished is set once the backend has assembled the complete object.
	Finished bool
	// Stopped is set by Store.Stop (a hook's StopUpload): the upload
	// takes no more bytes. What it holds is kept.
	Stopped bool
	// StopReason is the caller's note kept with the mark (the hook's
	// answer for the client); opaque to stores.
	StopReason string
	// Handle holds backend-owned values (multipart upload ID, object key,
	// tail pointer, part size, ...). Only the backend interprets them.
	Handle map[string]string

	// Locked is a hint filled by Get: a lease was held when the record was
	// read. It is not stored.
	Locked bool
	// Holder is a hint filled by Get with Locked: the instance name of the
	// process holding the lease, when the store knows it. It is not stored.
	Holder string
}

// DeferLength reports whether the length is still unknown.
func (u *Upload) DeferLength() bool { return u.Length < 0 }

// Final reports whether this is an Upload-Concat: final upload.
func (u *Upload) Final() bool { return len(u.Partials) > 0 }

// Complete reports whether every byte has been received.
func (u *Upload) Complete() bool { return u.Length >= 0 && u.Offset == u.Length }

// Clone returns a deep copy, so a caller may keep a snapshot while applying
// changes to another.
func (u *Upload) Clone() *Upload {
	c := *u
	c.Partials = append([]string(nil), u.Partials...)
	c.Handle = make(map[string]string, len(u.Handle))
	for k, v := range u.Handle {
		c.Handle[k] = v
	}
	return &c
}

// Apply applies ch to u the way a store applies a commit. Stores may use it
// to share the exact semantics; the gateway uses it to keep its copy current.
func (u *Upload) Apply(ch Change) {
	u.Offset = ch.Offset
	if ch.Length != nil && u.Length < 0 {
		u.Length = *ch.Length
	}
	if len(ch.Handle) > 0 && u.Handle == nil {
		u.Handle = make(map[string]string, len(ch.Handle))
	}
	for k, v := range ch.Handle {
		if v == "" {
			delete(u.Handle, k)
		} else {
			u.Handle[k] = v
		}
	}
	if ch.ExpiresAt != nil {
		u.ExpiresAt = *ch.ExpiresAt
	}
	if ch.Finished {
		u.Finished = true
	}
}

// Part is one entry of the manifest of stored pieces (an S3 part, an Azure
// block, a GCS chunk object).
type Part struct {
	// Number orders the parts; it is derived from the offset, so a retried
	// part replaces the earlier attempt instead of duplicating it.
	Number int
	// Offset is where the part starts in the upload.
	Offset int64
	Size   int64
	// ETag is the backend's identifier for the stored piece (ETag, block id).
	ETag string
	// Checksum is an optional integrity value for the part.
	Checksum string
}

// Change is what one commit changes. A store applies it atomically, and only
// while the caller's token is current and the offset is still the expected one.
type Change struct {
	// Offset is the new offset (>= the expected one).
	Offset int64
	// Length declares the length of a deferred-length upload (nil: unchanged).
	Length *int64
	// Parts are added to the manifest; a part with an existing Number
	// replaces it.
	Parts []Part
	// Handle is merged into Upload.Handle; an empty value deletes the key.
	Handle map[string]string
	// ExpiresAt moves the expiry (nil: unchanged; zero time: never expire).
	ExpiresAt *time.Time
	// Finished marks the upload assembled; it is never unset.
	Finished bool
}

// Merge folds a later change into c, as if both had been committed in order.
func (c *Change) Merge(later Change) {
	c.Offset = later.Offset
	if later.Length != nil {
		c.Length = later.Length
	}
	c.Parts = append(c.Parts, later.Parts...)
	for k, v := range later.Handle {
		if c.Handle == nil {
			c.Handle = make(map[string]string, len(later.Handle))
		}
		c.Handle[k] = v
	}
	if later.ExpiresAt != nil {
		c.ExpiresAt = later.ExpiresAt
	}
	c.Finished = c.Finished || later.Finished
}

// Store keeps upload records. Every method honours ctx and returns errors
// wrapping the sentinels above.
type Store interface {
	// Create stores a new record; ErrExists if the ID is taken.
	Create(ctx context.Context, u *Upload) error
	// Get returns the record without the manifest (one round trip).
	Get(ctx context.Context, id string) (*Upload, error)
	// Parts returns the manifest ordered by Number.
	Parts(ctx context.Context, id string) ([]Part, error)
	// Commit applies ch atomically if tok is the upload's current lock grant
	// (else ErrFenced) and the stored offset equals expect (else ErrConflict).
	Commit(ctx context.Context, id string, tok Token, expect int64, ch Change) error
	// Delete removes the record and its manifest if tok is current.
	Delete(ctx context.Context, id string, tok Token) error
	// Stop marks an unfinished upload Stopped, without the lock: it is
	// called by whoever learns of the stop (a hook dispatcher on any
	// process), while the upload's writer may be streaming. The writer
	// finds the mark when it is asked to release and answers accordingly.
	// reason (at most MaxStopReason bytes) is kept with the first mark. A
	// finished upload is left as it is; an unknown one is ErrNotFound.
	Stop(ctx context.Context, id, reason string) error
	// Expired returns up to limit IDs of unfinished uploads whose expiry is
	// before now, and of uploads marked Terminated, found through an index
	// (never a scan of all records).
	Expired(ctx context.Context, now time.Time, limit int) ([]string, error)
	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error
	Close() error
}

// Locker grants one lease per upload at a time.
type Locker interface {
	// Lock takes the upload's lease. If another request holds it, Lock asks
	// that holder to release (across processes where the implementation
	// spans them) and waits until ctx is done; then it returns an error
	// wrapping ErrLocked.
	Lock(ctx context.Context, id string) (Lease, error)
}

// Lease is a granted lock. It is renewed in the background until Unlock.
type Lease interface {
	Token() Token
	// Lost is cancelled when the lease could not be renewed and may now
	// belong to someone else; the holder must stop and must not report
	// success. Lost and ReleaseRequested are contexts so that holders can
	// react with context.AfterFunc, without a goroutine per lease waiting.
	Lost() context.Context
	// ReleaseRequested is cancelled when another request wants the upload;
	// the holder should save what it has and unlock promptly.
	ReleaseRequested() context.Context
	// ValidUntil is the local-clock instant until which the lease is surely
	// still held (last successful grant or renewal, measured before it was
	// sent, plus the lease time). A holder that was paused (GC, SIGSTOP, a
	// stalled VM) checks it before touching shared storage, because Lost
	// only closes after a renewal round trip, too late to stop a write
	// that resumes first.
	ValidUntil() time.Time
	// Unlock releases the lease; it is safe to call more than once.
	Unlock(ctx context.Context) error
}
