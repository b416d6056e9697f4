package gateway

import (
	"context"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

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

func isOffsetStream(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == offsetOctetStream
}

// creationLength reads Upload-Length / Upload-Defer-Length of a POST;
// -1 means deferred.
func (g *Gateway) creationLength(r *http.Request, final bool) (int64, error) {
	hasLen, hasDefer := hasHeader(r, hdrUploadLength), hasHeader(r, hdrUploadDefer)
	switch {
	case final && (hasLen || hasDefer):
		return 0, fmt.Errorf("%w: a final upload takes its length from its partials; do not send Upload-Length or Upload-Defer-Length", errBadRequest)
	case final:
		return -1, nil
	case hasLen && hasDefer:
		return 0, fmt.Errorf("%w: send either Upload-Length or Upload-Defer-Length, not both", errBadRequest)
	case hasDefer:
		if r.Header.Get(hdrUploadDefer) != "1" {
			return 0, fmt.Errorf("%w: Upload-Defer-Length must be 1", errBadRequest)
		}
		return -1, nil
	case !hasLen:
		return 0, fmt.Errorf("%w: Upload-Length or Upload-Defer-Length: 1 is required", errBadRequest)
	}
	n, err := parseSize(hdrUploadLength, r.Header.Get(hdrUploadLength))
	if err != nil {
		return 0, err
	}
	if g.cfg.MaxSize > 0 && n > g.cfg.MaxSize {
		return 0, fmt.Errorf("%w: Upload-Length %d exceeds the maximum of %d", errTooLarge, n, g.cfg.MaxSize)
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
			return fmt.Errorf("%w: concatenation is %w", errBadRequest, errNotImplemented)
		}
		var err error
		if concat, err = parseConcat(r.Header.Get(hdrUploadConcat)); err != nil {
			return err
		}
	}
	final := len(concat.urls) > 0
	length, err := g.creationLength(r, final)
	if err != nil {
		return err
	}
	meta := r.Header.Get(hdrUploadMetadata)
	if _, err := parseMetadata(meta); err != nil {
		return err
	}
	body := hasBody(r)
	if body && final {
		return fmt.Errorf("%w: a final upload cannot carry data", errForbidden)
	}
	if body && !isOffsetStream(r) {
		return fmt.Errorf("%w: a creation request with data needs Content-Type: %s", errMediaType, offsetOctetStream)
	}
	var ck *checksumRequest
	if v := r.Header.Get(hdrUploadChecksum); v != "" && body {
		parsed, err := parseChecksum(v)
		if err != nil {
			return err
		}
		ck = &parsed
	}

	now := time.Now()
	u := &state.Upload{
		ID: newID(), Length: length, Metadata: meta, Concat: r.Header.Get(hdrUploadConcat),
		Partial: concat.partial, CreatedAt: now.Truncate(time.Second),
	}
	if g.cfg.Expiration > 0 {
		u.ExpiresAt = now.Add(g.cfg.Expiration).Truncate(time.Second)
	}
	var partials []*state.Upload
	ready := false
	if final {
		for _, raw := range concat.urls {
			id, err := g.idFromURL(r, raw)
			if err != nil {
				return err
			}
			u.Partials = append(u.Partials, id)
		}
		if partials, ready, err = g.loadPartials(ctx, u.Partials); err != nil {
			return err
		}
		u.Length = totalLength(partials)
		if g.cfg.MaxSize > 0 && u.Length > g.cfg.MaxSize {
			return fmt.Errorf("%w: the partials add up to %d bytes, more than %d", errTooLarge, u.Length, g.cfg.MaxSize)
		}
	}

	handle, err := g.backend.Create(ctx, u)
	if err != nil {
		return fmt.Errorf("create upload in backend: %w", err)
	}
	u.Handle = handle
	if err := g.store.Create(ctx, u); err != nil {
		if derr := g.backend.Delete(ctx, u); derr != nil {
			g.log.WarnContext(ctx, "clean up after failed create", "id", u.ID, "err", derr)
		}
		return fmt.Errorf("record upload: %w", err)
	}
	g.metrics.created.Inc()
	noteUpload(ctx, u.ID)
	g.log.InfoContext(ctx, "upload created", "id", u.ID, "length", u.Length, "concat", u.Concat)

	h := c.Response().Header()
	h.Set("Location", g.uploadURL(r, u.ID))
	if u.Concat != "" {
		h.Set(hdrUploadConcat, u.Concat)
	}
	if body || u.Length == 0 || ready {
		if err := g.fill(c, u, body, partials, ready, ck); err != nil {
			return err
		}
	}
	if !final || u.Finished {
		h.Set(hdrUploadOffset, strconv.FormatInt(u.Offset, 10))
	}
	g.setExpires(h, u)
	return c.NoContent(http.StatusCreated)
}

// fill does the work a creation request may carry besides creating:
// the body (creation-with-upload), finishing an empty upload, or
// concatenating a final upload whose partials are all finished.
func (g *Gateway) fill(c echo.Context, u *state.Upload, body bool, partials []*state.Upload, ready bool, ck *checksumRequest) error {
	ctx := c.Request().Context()
	lease, err := g.lock(ctx, u.ID)
	if err != nil {
		return err
	}
	defer g.unlock(lease)
	if ready {
		return g.concatLocked(ctx, u, lease.Token(), partials)
	}
	if body {
		err = g.appendBody(ctx, u, lease, c.Request(), c.Response(), ck)
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

func (g *Gateway) head(c echo.Context) error {
	id, err := uploadID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	u, err := g.load(ctx, id)
	if err != nil {
		return err
	}
	if u.Locked && !u.Final() {
		// A PATCH is streaming, perhaps for a client that has gone. Ask it
		// to store what it has and let go, so the offset we report is the
		// one the next PATCH needs. If that fails, report what is stored.
		if lease, lerr := g.lock(ctx, id); lerr == nil {
			g.unlock(lease)
			if u, err = g.load(ctx, id); err != nil {
				return err
			}
		}
	}
	if u, err = g.resolveFinal(ctx, u); err != nil {
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
	ctx := r.Context()
	if !isOffsetStream(r) {
		return fmt.Errorf("%w: PATCH needs Content-Type: %s", errMediaType, offsetOctetStream)
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
	var ck *checksumRequest
	if hasHeader(r, hdrUploadChecksum) {
		parsed, err := parseChecksum(r.Header.Get(hdrUploadChecksum))
		if err != nil {
			return err
		}
		ck = &parsed
	}

	lease, u, err := g.lockAndLoad(ctx, id)
	if err != nil {
		return err
	}
	defer g.unlock(lease)
	if u.Final() {
		return fmt.Errorf("%w: a final upload cannot be patched", errForbidden)
	}
	if offset != u.Offset {
		c.Response().Header().Set(hdrUploadOffset, strconv.FormatInt(u.Offset, 10))
		return fmt.Errorf("%w: the request says %d, the upload is at %d", errOffsetMismatch, offset, u.Offset)
	}
	if declared >= 0 {
		if err := g.declareLength(ctx, u, lease.Token(), declared); err != nil {
			return err
		}
	}
	werr := g.appendBody(ctx, u, lease, r, c.Response(), ck)
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

// declareLength sets the length of a deferred-length upload. Repeating the
// length already set is accepted; changing it is not.
func (g *Gateway) declareLength(ctx context.Context, u *state.Upload, tok state.Token, n int64) error {
	switch {
	case !u.DeferLength() && n == u.Length:
		return nil
	case !u.DeferLength():
		return fmt.Errorf("%w: Upload-Length is already %d and cannot change", errBadRequest, u.Length)
	case n < u.Offset:
		return fmt.Errorf("%w: Upload-Length %d is below the %d bytes already received", errBadRequest, n, u.Offset)
	case g.cfg.MaxSize > 0 && n > g.cfg.MaxSize:
		return fmt.Errorf("%w: Upload-Length %d exceeds the maximum of %d", errTooLarge, n, g.cfg.MaxSize)
	}
	return g.commit(ctx, u, tok, state.Change{Offset: u.Offset, Length: &n})
}

func (g *Gateway) delete(c echo.Context) error {
	id, err := uploadID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	lease, u, err := g.lockAndLoad(ctx, id)
	if err != nil {
		return err
	}
	defer g.unlock(lease)
	if err := g.remove(ctx, u, lease.Token()); err != nil {
		return err
	}
	g.metrics.terminated.Inc()
	g.log.InfoContext(ctx, "upload terminated", "id", id)
	return c.NoContent(http.StatusNoContent)
}

// remove deletes an upload's bytes, then its state. In that order a crash
// in between leaves a record whose data is gone, which the next DELETE or
// the sweeper removes, rather than orphaned bytes nobody knows about.
func (g *Gateway) remove(ctx context.Context, u *state.Upload, tok state.Token) error {
	if err := g.backend.Delete(ctx, u); err != nil {
		return fmt.Errorf("delete data of %s: %w", u.ID, err)
	}
	if err := g.store.Delete(ctx, u.ID, tok); err != nil {
		return fmt.Errorf("delete record of %s: %w", u.ID, err)
	}
	return nil
}
