package gateway

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"

	"github.com/tusgate/tusgate/hooks"
	"github.com/tusgate/tusgate/state"
)

// Defaults of the pre-access answer cache.
const (
	DefaultAccessCacheTTL  = 5 * time.Second
	DefaultAccessCacheSize = 10_000
)

// accessKey identifies one decision: who (a digest of the credentials, so
// the key is fixed-size whatever the client sends), which upload, which
// method.
type accessKey struct {
	credential [sha256.Size]byte
	upload     string
	method     string
}

// accessCache remembers pre-access answers briefly; it is bounded in entries
// and time, so no client can make it grow.
type accessCache = expirable.LRU[accessKey, *hookRejection]

func newAccessCache(size int, ttl time.Duration) *accessCache {
	if size <= 0 {
		size = DefaultAccessCacheSize
	}
	if ttl <= 0 {
		ttl = DefaultAccessCacheTTL
	}
	return expirable.NewLRU[accessKey, *hookRejection](size, nil, ttl)
}

// credentialOf digests what identifies a client: its Authorization and
// Cookie headers.
func credentialOf(r *http.Request) [sha256.Size]byte {
	h := sha256.New()
	for _, k := range []string{"Authorization", "Cookie"} {
		for _, v := range r.Header.Values(k) {
			h.Write([]byte(v))
			h.Write([]byte{0})
		}
		h.Write([]byte{1})
	}
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}

// Authenticator names the subject of a request's credentials (for example
// a verified JWT's sub); an error means the request has none that is valid.
type Authenticator interface {
	Subject(r *http.Request) (string, error)
}

// errUnauthenticated: authentication is on and the request has no valid
// credentials (401).
var errUnauthenticated = errors.New("authentication required")

// owner returns the subject a new upload is recorded under ("" without an
// Authenticator).
func (g *Gateway) owner(r *http.Request) (string, error) {
	if g.cfg.Auth == nil {
		return "", nil
	}
	sub, err := g.cfg.Auth.Subject(r)
	if err != nil {
		return "", &protoError{sentinel: errUnauthenticated, cause: err}
	}
	return sub, nil
}

// authorize decides whether r may touch u: with an Authenticator, only the
// subject that created it; with the pre-access hook, what the receiver says.
// It runs after the one state read and before any lock or backend work, so
// a denied request costs neither. Hook answers are cached per credential,
// upload and method for the cache TTL.
func (g *Gateway) authorize(ctx context.Context, r *http.Request, u *state.Upload) error {
	if g.cfg.Auth != nil {
		sub, err := g.owner(r)
		if err != nil {
			return err
		}
		if sub != u.Owner {
			return protoErr(errForbidden, "the upload belongs to another user")
		}
	}
	if !g.hookOn(hooks.PreAccess) {
		return nil
	}
	key := accessKey{credential: credentialOf(r), upload: u.ID, method: methodLabel(r.Method)}
	if denied, ok := g.access.Get(key); ok {
		if denied != nil {
			return denied
		}
		return nil
	}
	res, err := g.preHook(withRequest(ctx, r), hooks.PreAccess, u)
	if err != nil {
		return err // not cached: the receiver may be back soon
	}
	var denied *hookRejection
	if refuses(hooks.PreAccess, res) {
		denied = &hookRejection{typ: hooks.PreAccess, resp: res.HTTPResponse, status: http.StatusForbidden,
			msg: "access to this upload has been denied by the server"}
	}
	g.access.Add(key, denied)
	if denied != nil {
		return denied
	}
	return nil
}
