package gateway

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tusgate/tusgate/hooks"
	"github.com/tusgate/tusgate/state"
)

func (g *Gateway) options(c echo.Context) error {
	h := c.Response().Header()
	h.Set(hdrTusVersion, tusVersion)
	h.Set(hdrTusExtension, g.extensions)
	h.Set(hdrTusChecksumAlg, checksumAlgorithmList)
	if g.cfg.MaxSize > 0 {
		h.Set(hdrTusMaxSize, strconv.FormatInt(g.cfg.MaxSize, 10))
	}
	// The CORS middleware skips OPTIONS (see corsConfig), so preflights
	// and a browser's discovery request get their CORS headers here.
	r := c.Request()
	if origin := r.Header.Get("Origin"); origin != "" && g.originAllowed(origin) {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
		if r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", strings.Join(corsAllowMethods, ","))
			h.Set("Access-Control-Allow-Headers", strings.Join(corsAllowHeaders, ","))
			h.Set("Access-Control-Max-Age", "86400")
		} else {
			h.Set("Access-Control-Expose-Headers", strings.Join(corsExposeHeaders, ","))
		}
	}
	return c.NoContent(http.StatusOK)
}

// hasHeader tells a header sent empty apart from one not sent.
func hasHeader(r *http.Request, name string) bool {
	_, ok := r.Header[http.CanonicalHeaderKey(name)]
	return ok
}

// hasBody reports whether the request carries content; a chunked body
// counts even if it turns out to be empty.
func hasBody(r *http.Request) bool {
	return r.ContentLength > 0 || (r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody)
}

func isOffsetStream(r *http.Request) bool { return hasMediaType(r, offsetOctetStream) }

// hasMediaType reports whether the request's Content-Type is media type mt
// (parameters aside).
func hasMediaType(r *http.Request, mt string) bool {
	got, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && got == mt
}

// creationLength reads Upload-Length / Upload-Defer-Length of a POST;
// -1 means deferred.
func (g *Gateway) creationLength(r *http.Request, final bool) (int64, error) {
	hasLen, hasDefer := hasHeader(r, hdrUploadLength), hasHeader(r, hdrUploadDefer)
	switch {
	case final && (hasLen || hasDefer):
		return 0, protoErr(errBadRequest, "a final upload takes its length from its partials; do not send Upload-Length or Upload-Defer-Length")
	case final:
		return -1, nil
	case hasLen && hasDefer:
		return 0, protoErr(errBadRequest, "send either Upload-Length or Upload-Defer-Length, not both")
	case hasDefer && !g.caps.DeferredLength:
		return 0, protoErr(errBadRequest, "the storage backend cannot take uploads of deferred length")
	case hasDefer:
		if r.Header.Get(hdrUploadDefer) != "1" {
			return 0, protoErr(errBadRequest, "Upload-Defer-Length must be 1")
		}
		return -1, nil
	case !hasLen:
		return 0, protoErr(errBadRequest, "Upload-Length or Upload-Defer-Length: 1 is required")
	}
	n, err := parseSize(hdrUploadLength, r.Header.Get(hdrUploadLength))
	if err != nil {
		return 0, err
	}
	if g.cfg.MaxSize > 0 && n > g.cfg.MaxSize {
		return 0, protoErr(errTooLarge, "Upload-Length %d exceeds the maximum of %d", n, g.cfg.MaxSize)
	}
	return n, nil
}

func (g *Gateway) post(c echo.Context) error {
	r := c.Request()
	ctx := r.Context()

	// Everything is validated before anything is created.
	var concat concatRequest
	if hasHeader(r, hdrUploadConcat) {
		if g.concater == nil {
			return protoErr(errBadRequest, "concatenation is not supported by the configured storage")
		}
		raw := r.Header.Get(hdrUploadConcat)
		if limit := g.cfg.MaxConcatPartials * concatBytesPerPartial; len(raw) > limit {
			return protoErr(errHeaderTooLarge, "Upload-Concat is longer than %d bytes", limit)
		}
		var err error
		if concat, err = parseConcat(raw); err != nil {
			return err
		}
		if len(concat.urls) > g.cfg.MaxConcatPartials {
			return protoErr(errBadRequest, "a final upload joins at most %d partial uploads", g.cfg.MaxConcatPartials)
		}
	}
	final := len(concat.urls) > 0
	length, err := g.creationLength(r, final)
	if err != nil {
		return err
	}
	meta := r.Header.Get(hdrUploadMetadata)
	if len(meta) > g.cfg.MaxMetadataSize {
		return protoErr(errHeaderTooLarge, "Upload-Metadata is longer than %d bytes", g.cfg.MaxMetadataSize)
	}
	if _, err := parseMetadata(meta); err != nil {
		return err
	}
	body := hasBody(r)
	if body && final {
		return protoErr(errForbidden, "a final upload cannot carry data")
	}
	if body && !isOffsetStream(r) {
		return protoErr(errMediaType, "a creation request with data needs Content-Type: %s", offsetOctetStream)
	}
	ck, err := g.checksumOf(r, body)
	if err != nil {
		return err
	}
	u, err := g.newUpload(r, length, meta)
	if err != nil {
		return err
	}
	u.Concat, u.Partial = r.Header.Get(hdrUploadConcat), concat.partial
	// A request whose Host cannot make an upload URL fails before the
	// partials are read or a hook is asked.
	if _, err := g.uploadURL(r, u.ID); err != nil {
		return err
	}
	var partials []*state.Upload
	ready := false
	if final {
		if u.Partials, err = g.partialIDs(r, concat.urls); err != nil {
			return err
		}
		if partials, ready, err = g.loadPartials(ctx, u.Partials); err != nil {
			return err
		}
		for _, p := range partials {
			if err := g.authorize(ctx, r, p); err != nil {
				return err
			}
		}
		if u.Length, err = g.totalLength(partials); err != nil {
			return err
		}
	}

	ctx = withRequest(ctx, r)
	location, lease, err := g.createUpload(ctx, c, u)
	if err != nil {
		return err
	}
	defer g.unlock(lease)

	h := c.Response().Header()
	h.Set("Location", location)
	if u.Concat != "" {
		h.Set(hdrUploadConcat, u.Concat)
	}
	if body || u.Length == 0 || ready {
		if err := g.fill(c, u, lease, body, partials, ready, ck); err != nil {
			return err
		}
	}
	if !final || u.Finished {
		h.Set(hdrUploadOffset, strconv.FormatInt(u.Offset, 10))
	}
	g.setExpires(h, u)
	return c.NoContent(http.StatusCreated)
}

// newUpload is the record of an upload r is about to create: a fresh ID,
// r's owner, the creation time and the expiry.
func (g *Gateway) newUpload(r *http.Request, length int64, meta string) (*state.Upload, error) {
	owner, err := g.owner(r)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	u := &state.Upload{ID: newID(), Length: length, Metadata: meta, Owner: owner, CreatedAt: now.Truncate(time.Second)}
	if g.cfg.Expiration > 0 {
		u.ExpiresAt = now.Add(g.cfg.Expiration).Truncate(time.Second)
	}
	return u, nil
}

// createUpload is a creation of either protocol: the pre-create hook
// (which may change the ID and metadata), the record and the storage, then
// post-create. It returns the upload URL and the new upload's lease, which
// the caller releases.
func (g *Gateway) createUpload(ctx context.Context, c echo.Context, u *state.Upload) (string, state.Lease, error) {
	location, err := g.approveCreation(ctx, c, u)
	if err != nil {
		return "", nil, err
	}
	lease, err := g.create(ctx, u)
	if err != nil {
		return "", nil, err
	}
	g.postHook(ctx, hooks.PostCreate, u)
	return location, lease, nil
}

// approveCreation asks the pre-create hook about u, applies what the
// receiver changes (ID, metadata) and returns the upload's URL. Every
// protocol's creation passes through it.
func (g *Gateway) approveCreation(ctx context.Context, c echo.Context, u *state.Upload) (string, error) {
	res, err := g.preHook(ctx, hooks.PreCreate, u)
	if err != nil {
		return "", err
	}
	if refuses(hooks.PreCreate, res) {
		return "", reject(hooks.PreCreate, res.HTTPResponse, http.StatusBadRequest, "upload creation has been rejected by the server")
	}
	if res.ChangeFileInfo.Storage != nil {
		// Where bytes go follows from the upload ID (choose it with
		// ChangeFileInfo.ID): a receiver-chosen path or key could point
		// outside the store or at another upload's object.
		g.log.WarnContext(ctx, "pre-create hook: ChangeFileInfo.Storage is not supported and was ignored", "id", u.ID)
	}
	if res.ChangeFileInfo.ID != "" || res.ChangeFileInfo.MetaData != nil {
		if err := g.changeFileInfo(u, res.ChangeFileInfo); err != nil {
			return "", err
		}
	}
	applyHookHeaders(c.Response().Header(), res.HTTPResponse.Header)
	return g.uploadURL(c.Request(), u.ID)
}

// detachedTimeout bounds work that must finish even when the client has
// gone (creation, termination, cleanup after a failure).
const detachedTimeout = 30 * time.Second

// detached returns a context the client cannot cancel, bounded in time.
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), detachedTimeout)
}

// create records a new upload, then prepares its storage, under the new
// upload's lease, which it returns. The record comes first so that anything
// the backend makes is reachable from a record: a crash between the two
// leaves a record (without handles) that the sweeper or a DELETE removes
// together with whatever the backend finds under the upload's ID. Bytes
// stored before a record existed could never be found again. The steps run
// on a context the client cannot cancel, so a disconnect cannot stop them
// half-way either.
func (g *Gateway) create(ctx context.Context, u *state.Upload) (state.Lease, error) {
	dctx, cancel := detached(ctx)
	defer cancel()
	// A fresh random ID: nobody else can hold or wait for it.
	lease, err := g.lock(dctx, u.ID)
	if err != nil {
		return nil, err
	}
	if err := g.store.Create(dctx, u); err != nil {
		g.unlock(lease)
		return nil, fmt.Errorf("record upload: %w", err)
	}
	handle, err := g.backend.Create(dctx, u)
	if err == nil && len(handle) > 0 {
		err = g.commit(dctx, u, lease.Token(), state.Change{Offset: 0, Handle: handle})
		if errors.Is(err, state.ErrFenced) {
			// The lease lapsed while this process was paused (GC, SIGSTOP,
			// a stalled VM). Nobody else knows the new ID, so nobody took
			// the upload over: lock it again and commit. Giving up would
			// leave the backend's object unreachable from the record.
			g.unlock(lease)
			var lerr error
			if lease, lerr = g.lock(dctx, u.ID); lerr != nil {
				return nil, fmt.Errorf("create upload %s: lock again after a lapsed lease: %w", u.ID, lerr)
			}
			err = g.commit(dctx, u, lease.Token(), state.Change{Offset: 0, Handle: handle})
		}
	}
	if err != nil {
		if rerr := g.remove(dctx, u, lease.Token()); rerr != nil {
			g.log.WarnContext(dctx, "clean up after failed create; the sweeper will retry", "id", u.ID, "err", rerr)
		}
		g.unlock(lease)
		return nil, fmt.Errorf("create upload in backend: %w", err)
	}
	g.metrics.created.Inc()
	noteUpload(ctx, u.ID)
	g.log.InfoContext(ctx, "upload created", "id", u.ID, "length", u.Length, "partials", len(u.Partials))
	return lease, nil
}

// checksumOf reads Upload-Checksum of a request with a body. A checksum in
// both the header and a trailer is refused: only one can be verified.
func (g *Gateway) checksumOf(r *http.Request, body bool) (*checksumRequest, error) {
	_, trailer := r.Trailer[hdrUploadChecksum]
	if !hasHeader(r, hdrUploadChecksum) || !body {
		return nil, nil
	}
	if trailer {
		return nil, protoErr(errBadRequest, "send Upload-Checksum as a header or as a trailer, not both")
	}
	parsed, err := parseChecksum(r.Header.Get(hdrUploadChecksum))
	if err != nil {
		return nil, err
	}
	return &parsed, nil
}

// partialIDs resolves the URLs of a final upload to upload IDs. A partial
// listed twice is refused: it would let a small request write a large
// object (the same bytes copied again and again).
func (g *Gateway) partialIDs(r *http.Request, urls []string) ([]string, error) {
	ids := make([]string, 0, len(urls))
	seen := make(map[string]bool, len(urls)) // bounded by MaxConcatPartials
	for _, raw := range urls {
		id, err := g.idFromURL(r, raw)
		if err != nil {
			return nil, err
		}
		if seen[id] {
			return nil, protoErr(errBadRequest, "upload %s is listed twice in Upload-Concat", id)
		}
		seen[id] = true
		ids = append(ids, id)
	}
	return ids, nil
}

// fill does the work a creation request may carry besides creating:
// the body (creation-with-upload), finishing an empty upload, or
// concatenating a final upload whose partials are all finished. The caller
// holds the upload's lease.
func (g *Gateway) fill(c echo.Context, u *state.Upload, lease state.Lease, body bool, partials []*state.Upload, ready bool, ck *checksumRequest) error {
	ctx := withRequest(c.Request().Context(), c.Request())
	if ready {
		return g.concatLocked(ctx, u, lease.Token(), partials)
	}
	var err error
	if body {
		err = g.appendBody(ctx, u, lease, c.Request(), c.Response(), ck, nil)
	}
	// As in patch: finishing outlives a client that hung up.
	if ferr := g.finish(context.WithoutCancel(ctx), u, lease.Token()); err == nil {
		err = ferr
	}
	return err
}

func (g *Gateway) setExpires(h http.Header, u *state.Upload) {
	if !u.Finished && !u.ExpiresAt.IsZero() {
		h.Set(hdrUploadExpires, u.ExpiresAt.UTC().Format(http.TimeFormat))
	}
}

// current reads the upload of an offset request (HEAD): a PATCH still
// streaming, perhaps for a client that has gone, is asked to store what it
// has and let go first, so the offset reported is the one the next PATCH
// needs. If that fails, it reports what is stored.
func (g *Gateway) current(c echo.Context) (*state.Upload, error) {
	id, err := uploadID(c)
	if err != nil {
		return nil, err
	}
	ctx := c.Request().Context()
	u, err := g.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := g.authorize(ctx, c.Request(), u); err != nil {
		return nil, err
	}
	if u.Locked && !u.Final() {
		if lease, lerr := g.lock(ctx, id); lerr == nil {
			g.unlock(lease)
			if u, err = g.load(ctx, id); err != nil {
				return nil, err
			}
		}
	}
	if u.Complete() && !u.Finished && !u.Final() {
		return g.finishForOffset(ctx, u)
	}
	return g.resolveFinal(ctx, u)
}

// finishForOffset assembles an upload that has every byte but no object
// (its replica died in between) before an offset request reports it: an
// offset equal to the length tells a client it is done, so it must not be
// said of an upload the store might still refuse to complete. A store that
// lost bytes rewinds it, and the lower offset is reported. When the store
// cannot be reached the request fails, to be retried; other failures (a
// pre-finish hook's refusal) leave the stored state to report.
func (g *Gateway) finishForOffset(ctx context.Context, u *state.Upload) (*state.Upload, error) {
	fu, err := g.finishNow(ctx, u.ID)
	switch status, _ := statusOf(err); {
	case err == nil:
		return fu, nil
	case errors.Is(err, errRewound):
		return g.load(ctx, u.ID)
	case status == http.StatusServiceUnavailable:
		return nil, err
	}
	g.log.WarnContext(ctx, "could not finish a complete upload before reporting its offset", "id", u.ID, "err", err)
	return u, nil
}

func (g *Gateway) head(c echo.Context) error {
	u, err := g.current(c)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	if !u.Final() || u.Finished {
		h.Set(hdrUploadOffset, strconv.FormatInt(u.Offset, 10))
	}
	switch {
	case u.Length >= 0:
		h.Set(hdrUploadLength, strconv.FormatInt(u.Length, 10))
	case !u.Final():
		h.Set(hdrUploadDefer, "1")
	}
	if u.Metadata != "" {
		h.Set(hdrUploadMetadata, u.Metadata)
	}
	if u.Concat != "" {
		h.Set(hdrUploadConcat, u.Concat)
	}
	g.setExpires(h, u)
	return c.NoContent(http.StatusOK)
}

func (g *Gateway) patch(c echo.Context) error {
	id, err := uploadID(c)
	if err != nil {
		return err
	}
	r := c.Request()
	ctx := withRequest(r.Context(), r)
	if !isOffsetStream(r) {
		return protoErr(errMediaType, "PATCH needs Content-Type: %s", offsetOctetStream)
	}
	offset, err := parseSize(hdrUploadOffset, r.Header.Get(hdrUploadOffset))
	if err != nil {
		return err
	}
	declared := int64(-1)
	if hasHeader(r, hdrUploadLength) {
		if declared, err = parseSize(hdrUploadLength, r.Header.Get(hdrUploadLength)); err != nil {
			return err
		}
	}
	ck, err := g.checksumOf(r, true)
	if err != nil {
		return err
	}
	lease, u, err := g.lockForAppend(ctx, r, id)
	if err != nil {
		return err
	}
	defer g.unlock(lease)
	if offset != u.Offset {
		c.Response().Header().Set(hdrUploadOffset, strconv.FormatInt(u.Offset, 10))
		return mismatchErr(u.Offset, offset)
	}
	if declared >= 0 {
		if err := g.declareLength(ctx, u, lease.Token(), declared); err != nil {
			return err
		}
	}
	werr := g.appendBody(ctx, u, lease, r, c.Response(), ck, nil)
	// A body cut short may still have completed the upload (413 after the
	// exact length), so finishing does not depend on werr. Like the write,
	// it outlives a client that hung up: a takeover or disconnect cancels
	// the request's context once the body is in.
	ferr := g.finish(context.WithoutCancel(ctx), u, lease.Token())
	h := c.Response().Header()
	h.Set(hdrUploadOffset, strconv.FormatInt(u.Offset, 10))
	g.setExpires(h, u)
	if werr != nil {
		return werr
	}
	if ferr != nil {
		return ferr
	}
	return c.NoContent(http.StatusNoContent)
}

// lockForAppend takes the lease of an upload r appends to and reads it;
// the caller unlocks. Access is decided before the lock: a denied client
// costs no lock round trip and cannot make the holder let go. A final
// upload takes no data.
func (g *Gateway) lockForAppend(ctx context.Context, r *http.Request, id string) (state.Lease, *state.Upload, error) {
	if g.cfg.Auth != nil || g.hookOn(hooks.PreAccess) {
		u, err := g.load(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		if err := g.authorize(ctx, r, u); err != nil {
			return nil, nil, err
		}
	}
	lease, u, err := g.lockAndLoad(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if u.Final() {
		g.unlock(lease)
		return nil, nil, protoErr(errForbidden, "a final upload cannot be appended to")
	}
	if u.Stopped {
		g.unlock(lease)
		return nil, nil, stoppedError(u)
	}
	return lease, u, nil
}

// declareLength sets the length of a deferred-length upload. Repeating the
// length already set is accepted; changing it is not.
func (g *Gateway) declareLength(ctx context.Context, u *state.Upload, tok state.Token, n int64) error {
	switch {
	case !u.DeferLength() && n == u.Length:
		return nil
	case !u.DeferLength():
		return protoErr(errInconsistentLength, "Upload-Length is already %d and cannot change", u.Length)
	case n < u.Offset:
		return protoErr(errInconsistentLength, "Upload-Length %d is below the %d bytes already received", n, u.Offset)
	case g.cfg.MaxSize > 0 && n > g.cfg.MaxSize:
		return protoErr(errTooLarge, "Upload-Length %d exceeds the maximum of %d", n, g.cfg.MaxSize)
	}
	return g.commit(ctx, u, tok, state.Change{Offset: u.Offset, Length: &n})
}

func (g *Gateway) delete(c echo.Context) error {
	id, err := uploadID(c)
	if err != nil {
		return err
	}
	// Termination runs to its end even if the client hangs up: half a
	// termination would leave a record promising bytes that are gone.
	ctx, cancel := detached(withRequest(c.Request().Context(), c.Request()))
	defer cancel()
	if g.cfg.Auth != nil || g.hookOn(hooks.PreTerminate) || g.hookOn(hooks.PreAccess) {
		// Asked before the lock is taken: a receiver's delay must not
		// hold up the upload's other requests.
		u, err := g.load(ctx, id)
		if err != nil {
			return err
		}
		if err := g.authorize(ctx, c.Request(), u); err != nil {
			return err
		}
		res, err := g.preHook(ctx, hooks.PreTerminate, u)
		if err != nil {
			return err
		}
		if refuses(hooks.PreTerminate, res) {
			return reject(hooks.PreTerminate, res.HTTPResponse, http.StatusBadRequest, "upload termination has been rejected by the server")
		}
	}
	lease, u, err := g.lockAndLoad(ctx, id)
	if err != nil {
		return err
	}
	defer g.unlock(lease)
	if err := g.remove(ctx, u, lease.Token()); err != nil {
		return err
	}
	g.postHook(ctx, hooks.PostTerminate, u)
	g.metrics.terminated.Inc()
	g.log.InfoContext(ctx, "upload terminated", "id", id)
	return c.NoContent(http.StatusNoContent)
}

// remove deletes an upload: it first marks the record terminated (from then
// on it answers 404 and the sweeper lists it, finished or not), then deletes
// the bytes, then the record. A crash at any point leaves a marked record
// that the sweeper completes; never bytes without a
// record, nor a record that still promises its bytes. The sweeper runs even
// with expiration disabled, for these.
func (g *Gateway) remove(ctx context.Context, u *state.Upload, tok state.Token) error {
	if !u.Terminated() {
		mark := state.TerminatedAt
		if err := g.commit(ctx, u, tok, state.Change{Offset: u.Offset, ExpiresAt: &mark}); err != nil {
			return fmt.Errorf("mark %s terminated: %w", u.ID, err)
		}
	}
	if err := g.backend.Delete(ctx, u); err != nil {
		return fmt.Errorf("delete data of %s: %w", u.ID, err)
	}
	if err := g.store.Delete(ctx, u.ID, tok); err != nil {
		return fmt.Errorf("delete record of %s: %w", u.ID, err)
	}
	return nil
}
