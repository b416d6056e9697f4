// Package backends defines how tusgate stores upload bytes. Each store (file,
// s3, ...) is a subpackage that alone imports its SDK; this package holds the
// driver interface, the optional abilities and the sentinel errors.
//
// A backend never decides what is acknowledged: it reports durable progress
// through a CommitFunc, and the gateway records it in the state store under
// the upload's fencing token. Only committed bytes count.
package backends

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/tusgate/tusgate/state"
)

// Sentinel errors, wrapped with %w by implementations.
var (
	// ErrNotFound: the bytes of an upload are missing from the store.
	ErrNotFound = errors.New("upload data not found in backend")
	// ErrUnavailable: the store cannot be reached or throttles; retry later.
	ErrUnavailable = errors.New("storage backend unavailable")
	// ErrTooLarge: the upload exceeds what the store can hold.
	ErrTooLarge = errors.New("upload exceeds the backend's size limit")
)

// RetryAfter may be implemented by errors wrapping ErrUnavailable to tell the
// client how long to wait (throttling).
type RetryAfter interface {
	RetryAfter() time.Duration
}

// Progress is all a backend may report about an upload: bytes that became
// durable, the manifest entries that hold them and changes to its handles.
// Length, expiry and completion are the gateway's decisions, so a backend
// has no way to commit them.
type Progress struct {
	// Offset is the new offset (>= the one Write started at).
	Offset int64
	// Parts are added to the manifest (a part with an existing Number
	// replaces it).
	Parts []state.Part
	// Handle is merged into the upload's handles; an empty value deletes
	// the key.
	Handle map[string]string
}

// Merge folds later progress into p, as if both had been committed in order.
func (p *Progress) Merge(later Progress) {
	ch := p.Change()
	ch.Merge(later.Change())
	*p = Progress{Offset: ch.Offset, Parts: ch.Parts, Handle: ch.Handle}
}

// Change is the state change that records p.
func (p Progress) Change() state.Change {
	return state.Change{Offset: p.Offset, Parts: p.Parts, Handle: p.Handle}
}

// CommitFunc records durable progress in the state store. Write calls it each
// time more bytes have become durable. A non-nil error (for example a lost
// lease) means the write must stop at once.
type CommitFunc func(ctx context.Context, p Progress) error

// Backend stores the bytes of uploads.
type Backend interface {
	// Create prepares storage for a new upload and returns the handles to
	// keep in its state record. u.Length is -1 for a deferred length.
	Create(ctx context.Context, u *state.Upload) (map[string]string, error)

	// Write appends the bytes of r to the upload, starting at u.Offset, and
	// calls commit whenever bytes became durable (at least once before it
	// returns if any byte was stored). It returns nil when r reached io.EOF
	// and everything read was committed. When reading r fails, Write still
	// stores and commits what it received, then returns the read error.
	// u reflects the committed state at the start of the call; Write must
	// not modify it. The gateway bounds r to the bytes the upload may take.
	Write(ctx context.Context, u *state.Upload, r io.Reader, commit CommitFunc) error

	// Finish assembles the complete object once Offset == Length, using the
	// manifest (parts), never a listing. It must be idempotent: a crash
	// between Finish and the commit of Finished leads to a second call.
	Finish(ctx context.Context, u *state.Upload, parts []state.Part) error

	// Delete removes everything stored for the upload (object, parts, tails,
	// pending multipart uploads). Missing data is not an error.
	Delete(ctx context.Context, u *state.Upload) error

	// Ping reports whether the store is reachable (used by /readyz).
	Ping(ctx context.Context) error
	Close() error
}

// Concater joins finished partial uploads into a final upload server-side.
// The gateway offers the concatenation extension only for backends that
// implement it. final has been created with Create and has Length set.
type Concater interface {
	Concat(ctx context.Context, final *state.Upload, partials []*state.Upload) error
}

// RangeReader serves the bytes of a finished upload (GET).
type RangeReader interface {
	NewRangeReader(ctx context.Context, u *state.Upload, offset, length int64) (io.ReadCloser, error)
}

// Discarder cleans up what a Write stored but the gateway did not commit
// (a checksummed request that failed verification, a fenced commit), for
// backends that keep such data under unique names (tail objects).
type Discarder interface {
	Discard(ctx context.Context, u *state.Upload, uncommitted Progress) error
}

// Capabilities are what a backend can do and hold, in one value: the
// gateway derives Tus-Extension, Tus-Max-Size, the deferred-length check,
// download redirects and the expiry bound from it, so it never advertises
// what the backend refuses.
type Capabilities struct {
	Concatenation     bool // Concat works (server-side copy or streamed)
	DeferredLength    bool // uploads may start without a length
	ServerSideCopy    bool // concatenation copies inside the store
	PresignedDownload bool // PresignGet returns URLs
	// MaxObjectSize is the largest upload (0: no limit of the backend).
	MaxObjectSize int64
	// Part limits of object stores (0 for stores without parts).
	MinPartSize, MaxPartSize int64
	MaxParts                 int
	// MaxUploadAge is how long the store keeps an unfinished upload's
	// parts (0: for ever); expiry must remove uploads sooner.
	MaxUploadAge time.Duration
}

// Capable backends report their Capabilities.
type Capable interface {
	Capabilities() Capabilities
}

// Unwrapper is a backend that wraps another (for metrics, tracing); As
// looks through it for abilities the wrapper does not offer itself.
type Unwrapper interface {
	Unwrap() Backend
}

// As finds the first backend in b's wrapping chain that implements T.
func As[T any](b Backend) (T, bool) {
	for b != nil {
		if t, ok := b.(T); ok {
			return t, true
		}
		u, ok := b.(Unwrapper)
		if !ok {
			break
		}
		b = u.Unwrap()
	}
	var zero T
	return zero, false
}

// CapabilitiesOf returns b's Capabilities, or for a backend that does not
// report them what its optional interfaces say.
func CapabilitiesOf(b Backend) Capabilities {
	if c, ok := As[Capable](b); ok {
		return c.Capabilities()
	}
	_, concat := b.(Concater)
	_, presign := b.(interface {
		PresignGet(ctx context.Context, u *state.Upload, ttl time.Duration) (string, error)
	})
	return Capabilities{Concatenation: concat, DeferredLength: true, PresignedDownload: presign}
}

// LostError reports that the store no longer holds bytes it acknowledged
// (MinIO can lose a multipart upload's parts when a completion is cut off:
// the session then lists no parts, and every completion fails). Rewind is
// what the record must become to match the store: Offset is where the bytes
// it still holds end (below the upload's offset, unlike any other Progress)
// and Handle drops what no longer holds them. The gateway commits it, so
// the client sends the rest again instead of the upload failing for good.
type LostError struct {
	Rewind Progress
	// Err is the store's refusal that revealed the loss.
	Err error
}

func (e *LostError) Error() string {
	return fmt.Sprintf("the store lost bytes after offset %d: %v", e.Rewind.Offset, e.Err)
}

func (e *LostError) Unwrap() error { return e.Err }
