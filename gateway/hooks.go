package gateway

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/hooks"
	"github.com/tusgate/tusgate/state"
)

// Hooks connects the gateway to hook receivers. The zero value fires none.
type Hooks struct {
	// Receiver answers the blocking pre-* events.
	Receiver hooks.Receiver
	// Poster takes post-* events for at-least-once delivery (a
	// hooks.Dispatcher); the client never waits on their receiver.
	Poster interface {
		Post(ctx context.Context, req hooks.Request) error
	}
	// Enabled lists the events that fire.
	Enabled []hooks.Type
	// HiddenHeaders are client headers never put into an event (default:
	// Authorization, Cookie, Proxy-Authorization).
	HiddenHeaders []string
	// AccessCacheTTL and AccessCacheSize bound the cache of pre-access
	// answers (defaults DefaultAccessCacheTTL, DefaultAccessCacheSize).
	AccessCacheTTL  time.Duration
	AccessCacheSize int
	// ProgressInterval spaces the post-receive events of one running body
	// (default DefaultProgressInterval).
	ProgressInterval time.Duration
}

// DefaultHiddenHeaders keep credentials out of hook receivers.
var DefaultHiddenHeaders = []string{"Authorization", "Cookie", "Proxy-Authorization"}

// errHookFailed: a blocking hook's receiver could not be asked or gave no
// proper answer; the request is refused (fail closed) and may be retried.
var errHookFailed = errors.New("hook receiver unavailable")

// hookRejection is a receiver's refusal: the client gets the receiver's
// status, body and headers, or the defaults of the event.
type hookRejection struct {
	typ    hooks.Type
	resp   hooks.HTTPResponse
	status int
	msg    string
}

func (e *hookRejection) Error() string { return fmt.Sprintf("%s hook: %s", e.typ, e.msg) }

func (g *Gateway) hookOn(t hooks.Type) bool {
	h := g.cfg.Hooks
	if !slices.Contains(h.Enabled, t) {
		return false
	}
	if t.Blocking() {
		return h.Receiver != nil
	}
	return h.Poster != nil
}

// requestKey carries the client request to code that builds events far
// from the handler (finishing, concatenation).
type requestKey struct{}

func withRequest(ctx context.Context, r *http.Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// hookEvent describes u, and the client request ctx carries, the way tusd does.
// Before creation the upload has no storage yet (tusd sends none either).
func (g *Gateway) hookEvent(ctx context.Context, t hooks.Type, u *state.Upload) hooks.Event {
	md, _ := parseMetadata(u.Metadata) // validated at creation
	ev := hooks.Event{Upload: hooks.Upload{
		ID: u.ID, Size: max(u.Length, 0), SizeIsDeferred: u.DeferLength(), Offset: u.Offset,
		MetaData: md, IsPartial: u.Partial, IsFinal: u.Final(), PartialUploads: u.Partials,
	}}
	if s, ok := backends.As[storageDescriber](g.backend); ok && t != hooks.PreCreate {
		ev.Upload.Storage = s.StorageInfo(u)
	}
	if r, ok := ctx.Value(requestKey{}).(*http.Request); ok {
		hdr := r.Header.Clone()
		// Go moves Host out of the header map; tusd puts it back.
		hdr.Set("Host", r.Host)
		for _, k := range g.hiddenHeaders() {
			hdr.Del(k)
		}
		ev.HTTPRequest = hooks.HTTPRequest{Method: r.Method, URI: r.RequestURI, RemoteAddr: r.RemoteAddr, Header: hdr}
	}
	return ev
}

func (g *Gateway) hiddenHeaders() []string {
	if g.cfg.Hooks.HiddenHeaders == nil {
		return DefaultHiddenHeaders
	}
	return g.cfg.Hooks.HiddenHeaders
}

// storageDescriber is the optional ability to say where an upload's bytes
// are, for hook events (tusd's Upload.Storage): every backend implements it
// with the keys of tusd's store of the same kind.
type storageDescriber interface {
	StorageInfo(u *state.Upload) map[string]string
}

// preHook asks the receiver about a blocking event; a disabled event
// answers an empty response.
func (g *Gateway) preHook(ctx context.Context, t hooks.Type, u *state.Upload) (hooks.Response, error) {
	if !g.hookOn(t) {
		return hooks.Response{}, nil
	}
	res, err := g.cfg.Hooks.Receiver.Invoke(ctx, hooks.Request{Type: t, Event: g.hookEvent(ctx, t, u)})
	outcome := "allowed"
	switch {
	case err != nil:
		outcome = "failed"
	case refuses(t, res):
		outcome = "rejected"
	}
	g.metrics.hooks.WithLabelValues(string(t), outcome).Inc()
	if err != nil {
		return res, fmt.Errorf("%w: %s: %w", errHookFailed, t, err)
	}
	return res, nil
}

// refuses reports whether res refuses the request of event t, as tusd
// reads it: pre-create and pre-access by RejectUpload, pre-terminate by
// RejectTermination, pre-finish by a status of 400 or more. Anything else
// in the answer (a status without the flag) shapes the response only.
func refuses(t hooks.Type, res hooks.Response) bool {
	switch t {
	case hooks.PreCreate, hooks.PreAccess:
		return res.RejectUpload
	case hooks.PreTerminate:
		return res.RejectTermination
	case hooks.PreFinish:
		return res.HTTPResponse.StatusCode >= 400
	}
	return false
}

// postHook queues a post-* event. A queue failure is logged, not the
// client's problem: the upload itself succeeded.
func (g *Gateway) postHook(ctx context.Context, t hooks.Type, u *state.Upload) {
	if !g.hookOn(t) {
		return
	}
	ctx = context.WithoutCancel(ctx)
	if err := g.cfg.Hooks.Poster.Post(ctx, hooks.Request{Type: t, Event: g.hookEvent(ctx, t, u)}); err != nil {
		g.metrics.hooks.WithLabelValues(string(t), "failed").Inc()
		g.log.ErrorContext(ctx, "hook event lost", "event", string(t), "id", u.ID, "err", err)
		return
	}
	g.metrics.hooks.WithLabelValues(string(t), "queued").Inc()
}

// reject turns a receiver's refusal into the client's answer.
func reject(t hooks.Type, resp hooks.HTTPResponse, status int, msg string) error {
	return &hookRejection{typ: t, resp: resp, status: status, msg: msg}
}

// writeRejection answers a hook's refusal with the receiver's status, body
// and headers; header names and values that are not valid HTTP are dropped,
// so a receiver cannot split the response.
func (g *Gateway) writeRejection(w http.ResponseWriter, head bool, e *hookRejection) {
	status := e.status
	if s := e.resp.StatusCode; s >= 400 && s <= 599 {
		status = s
	}
	applyHookHeaders(w.Header(), e.resp.Header)
	body := e.msg
	if e.resp.Body != "" {
		body = e.resp.Body
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	if !head {
		_, _ = w.Write([]byte(strings.TrimSuffix(body, "\n") + "\n"))
	}
}

func applyHookHeaders(h http.Header, set map[string]string) {
	for k, v := range set {
		if httpguts.ValidHeaderFieldName(k) && httpguts.ValidHeaderFieldValue(v) {
			h.Set(k, v)
		}
	}
}

// encodeMetadata writes metadata as an Upload-Metadata header, keys sorted
// so that the stored string is the same on every replica.
func encodeMetadata(md map[string]string) string {
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		if md[k] == "" {
			parts = append(parts, k)
			continue
		}
		parts = append(parts, k+" "+base64.StdEncoding.EncodeToString([]byte(md[k])))
	}
	return strings.Join(parts, ",")
}

// changeFileInfo applies pre-create's changes to the new upload: another ID
// (checked like any upload ID; a taken one fails at creation) or other
// metadata (checked like the client's).
func (g *Gateway) changeFileInfo(u *state.Upload, ch hooks.FileInfoChanges) error {
	if ch.ID != "" {
		if !validID(ch.ID) {
			return fmt.Errorf("%w: pre-create chose the upload ID %.80q, which is not 2-64 of A-Z a-z 0-9 _ -", errHookFailed, ch.ID)
		}
		u.ID = ch.ID
	}
	if ch.MetaData != nil {
		raw := encodeMetadata(ch.MetaData)
		if len(raw) > g.cfg.MaxMetadataSize {
			return fmt.Errorf("%w: pre-create's metadata is longer than %d bytes", errHookFailed, g.cfg.MaxMetadataSize)
		}
		if _, err := parseMetadata(raw); err != nil {
			return fmt.Errorf("%w: pre-create's metadata: %w", errHookFailed, err)
		}
		u.Metadata = raw
	}
	return nil
}
