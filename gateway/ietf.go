package gateway

import (
	"context"
	"encoding/base64"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dunglas/httpsfv"
	"github.com/labstack/echo/v4"

	"github.com/tusgate/tusgate/state"
)

// The IETF draft "Resumable Uploads for HTTP" is a second front end on the
// same uploads: a request carrying Upload-Draft-Interop-Version is handled as
// that interop version of the draft, one without it as tus 1.0. Records,
// locks, backends, hooks and the commit path are tus's; this file only
// translates headers and statuses (errors map in errors.go).

const (
	hdrInterop        = "Upload-Draft-Interop-Version"
	hdrUploadComplete = "Upload-Complete"
	hdrUploadLimit    = "Upload-Limit"
	partialUpload     = "application/partial-upload"

	// statusUploadResumptionSupported is the draft's interim response.
	statusUploadResumptionSupported = 104

	// ctxInterop is the echo.Context key of a draft request's version.
	ctxInterop = "tusgate.interop"
)

// interopVersions are the versions served: 5 (draft -03) and 6 (-04 and
// -05), which tus-js-client speaks, and 8 (-09 to -11).
var interopVersions = []int64{5, 6, 8}

// ietfSingleValued are the draft's request fields that take one value.
var ietfSingleValued = []string{hdrInterop, hdrUploadComplete, hdrUploadOffset, hdrUploadLength, hdrUploadMetadata}

// checkInterop accepts a draft request of a served version and remembers
// the version for the handlers; any other value is refused, never read as
// tus.
func (g *Gateway) checkInterop(c echo.Context, next echo.HandlerFunc) error {
	r := c.Request()
	for _, name := range ietfSingleValued {
		if len(r.Header[name]) > 1 {
			return protoErr(errBadRequest, "%s must be sent once", name)
		}
	}
	it, err := httpsfv.UnmarshalItem(r.Header[hdrInterop])
	v, isInt := it.Value.(int64)
	if err != nil || !isInt || !slices.Contains(interopVersions, v) {
		return protoErr(errInteropVersion, "%.20q is not served; this server speaks interop versions 5, 6 and 8, and tus 1.0 without the header",
			r.Header.Get(hdrInterop))
	}
	c.Set(ctxInterop, v)
	c.Response().Header().Set(hdrInterop, strconv.FormatInt(v, 10))
	return next(c)
}

// byProtocol routes a request to the tus handler or, for a draft request,
// to the draft's.
func (g *Gateway) byProtocol(tus echo.HandlerFunc, ietf func(echo.Context, int64) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		if v, ok := c.Get(ctxInterop).(int64); ok {
			return ietf(c, v)
		}
		return tus(c)
	}
}

// methodNotAllowed answers methods only the draft uses on a tus request.
func methodNotAllowed(c echo.Context) error {
	c.Response().Header().Set("Allow", "OPTIONS, POST")
	return echo.ErrMethodNotAllowed
}

// sfSize reads a field that the draft defines as a non-negative Integer
// item. Other values are ignored, as the draft requires (ok is false).
func sfSize(r *http.Request, name string) (n int64, ok bool) {
	v, present := r.Header[name]
	if !present {
		return 0, false
	}
	it, err := httpsfv.UnmarshalItem(v)
	if err != nil {
		return 0, false
	}
	n, ok = it.Value.(int64)
	return n, ok && n >= 0
}

// sfBool reads a Boolean item field; other values are ignored.
func sfBool(r *http.Request, name string) (b, ok bool) {
	v, present := r.Header[name]
	if !present {
		return false, false
	}
	it, err := httpsfv.UnmarshalItem(v)
	if err != nil {
		return false, false
	}
	b, ok = it.Value.(bool)
	return b, ok
}

func sfBoolText(b bool) string {
	if b {
		return "?1"
	}
	return "?0"
}

// uploadLimit is the Upload-Limit of version v (6 or later) for u, or for a
// new upload when u is nil. max-size is the smaller of --max-size and the
// backend's largest object; the lifetime is the expiry, which activity only
// pushes later. There are no append limits: the part engine keeps tails
// below a store's minimum part and cuts bodies above its maximum.
func (g *Gateway) uploadLimit(v int64, u *state.Upload) string {
	d := httpsfv.NewDictionary()
	if g.cfg.MaxSize > 0 {
		d.Add("max-size", httpsfv.NewItem(g.cfg.MaxSize))
	}
	d.Add("min-size", httpsfv.NewItem(int64(0)))
	var age int64
	switch {
	case u == nil:
		age = int64(g.cfg.Expiration / time.Second)
	case !u.Finished && !u.ExpiresAt.IsZero():
		age = max(0, int64(time.Until(u.ExpiresAt)/time.Second))
	}
	if age > 0 {
		key := "max-age"
		if v == 6 {
			key = "expires" // renamed to max-age in draft -06
		}
		d.Add(key, httpsfv.NewItem(age))
	}
	s, _ := httpsfv.Marshal(d) // integers under valid keys: cannot fail
	return s
}

// setLimit announces the limits where the version defines Upload-Limit.
func (g *Gateway) setLimit(h http.Header, v int64, u *state.Upload) {
	if v >= 6 {
		h.Set(hdrUploadLimit, g.uploadLimit(v, u))
	}
}

// setProgress reports what is stored; an upload is complete for the draft
// once its object is assembled.
func setProgress(h http.Header, u *state.Upload) {
	h.Set(hdrUploadOffset, strconv.FormatInt(u.Offset, 10))
	h.Set(hdrUploadComplete, sfBoolText(u.Finished))
}

// ietfMetadata is the tus metadata a draft creation is recorded with:
// Upload-Metadata as tus-js-client sends it, else the draft's
// representation metadata, filename from Content-Disposition and filetype
// from Content-Type, so downloads and hooks see the same keys either way.
func (g *Gateway) ietfMetadata(r *http.Request) (string, error) {
	raw := r.Header.Get(hdrUploadMetadata)
	if !hasHeader(r, hdrUploadMetadata) {
		var pairs []string
		if cd := r.Header.Get("Content-Disposition"); cd != "" {
			_, params, err := mime.ParseMediaType(cd) // decodes filename* (RFC 2231)
			if err != nil {
				return "", protoErr(errBadRequest, "Content-Disposition is malformed")
			}
			if name := params["filename"]; name != "" {
				pairs = append(pairs, "filename "+base64.StdEncoding.EncodeToString([]byte(name)))
			}
		}
		if mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && mt != partialUpload && mt != offsetOctetStream {
			pairs = append(pairs, "filetype "+base64.StdEncoding.EncodeToString([]byte(mime.FormatMediaType(mt, params))))
		}
		raw = strings.Join(pairs, ",")
	}
	if len(raw) > g.cfg.MaxMetadataSize {
		return "", protoErr(errHeaderTooLarge, "the upload's metadata is longer than %d bytes", g.cfg.MaxMetadataSize)
	}
	if _, err := parseMetadata(raw); err != nil {
		return "", err
	}
	return raw, nil
}

// ietfCreationLength is the length a creation request indicates, -1 when it
// indicates none: Upload-Length, or with Upload-Complete: ?1 the
// Content-Length; both must agree.
func (g *Gateway) ietfCreationLength(r *http.Request, complete bool) (int64, error) {
	length, ok := sfSize(r, hdrUploadLength)
	if !ok {
		length = -1
	}
	if complete && r.ContentLength >= 0 {
		if length >= 0 && length != r.ContentLength {
			return 0, protoErr(errInconsistentLength, "Upload-Length is %d but the complete body has %d bytes", length, r.ContentLength)
		}
		length = r.ContentLength
	}
	switch {
	case length >= 0 && r.ContentLength > length:
		return 0, protoErr(errInconsistentLength, "the body has %d bytes but Upload-Length is %d", r.ContentLength, length)
	case length < 0 && !g.caps.DeferredLength:
		return 0, protoErr(errNotImplemented, "the storage backend needs the length up front: send Upload-Length")
	case g.cfg.MaxSize > 0 && length > g.cfg.MaxSize:
		return 0, protoErr(errTooLarge, "the upload's length %d exceeds the maximum of %d", length, g.cfg.MaxSize)
	}
	return length, nil
}

// ietfCreate creates an upload (POST or PUT with Upload-Complete), announces
// it with a 104 before reading the body, stores the body and, with
// Upload-Complete: ?1, completes it.
func (g *Gateway) ietfCreate(c echo.Context, v int64) error {
	r := c.Request()
	h := c.Response().Header()
	g.setLimit(h, v, nil) // a 413 carries the limits too
	complete, ok := sfBool(r, hdrUploadComplete)
	if !ok {
		return protoErr(errBadRequest, "a creation request needs Upload-Complete: ?0 or ?1")
	}
	length, err := g.ietfCreationLength(r, complete)
	if err != nil {
		return err
	}
	meta, err := g.ietfMetadata(r)
	if err != nil {
		return err
	}
	u, err := g.newUpload(r, length, meta)
	if err != nil {
		return err
	}
	ctx := withRequest(r.Context(), r)
	location, lease, err := g.createUpload(ctx, c, u)
	if err != nil {
		return err
	}
	defer g.unlock(lease)

	// From here on the client can resume: tell it where, before reading
	// the body. The final response repeats Location, as the draft asks.
	h.Set("Location", location)
	if r.ProtoAtLeast(1, 1) { // no 1xx for HTTP/1.0 (RFC 9110 15.2)
		c.Response().Writer.WriteHeader(statusUploadResumptionSupported)
	}
	err = g.ietfTransfer(c, u, lease, complete)
	setProgress(h, u)
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusCreated)
}

// ietfTransfer stores the body at u.Offset and, when the request says it
// ends the representation and all of it arrived, completes the upload. The
// caller holds lease.
func (g *Gateway) ietfTransfer(c echo.Context, u *state.Upload, lease state.Lease, complete bool) error {
	r := c.Request()
	ctx := withRequest(r.Context(), r)
	var err error
	if hasBody(r) {
		// post-receive fires inside appendBody, after commits.
		err = g.appendBody(ctx, u, lease, r, c.Response(), nil, progressReports(c.Response().Writer, r))
	}
	// As for tus, finishing outlives a client that hung up once the body
	// is in.
	fctx := context.WithoutCancel(ctx)
	if err == nil && complete {
		err = g.completeLength(fctx, u, lease.Token())
	}
	if ferr := g.finish(fctx, u, lease.Token()); err == nil {
		err = ferr
	}
	return err
}

// progressReports sends a 104 with the committed offset after every commit
// of a body, the draft's progress report. Go does not clear the header map
// after a 1xx, so Location and Upload-Limit, which a progress report must
// not carry, are taken out for it and put back for the final response. w is
// the server's writer: Echo's would take a 1xx for the final response.
func progressReports(w http.ResponseWriter, r *http.Request) func(int64) {
	if !r.ProtoAtLeast(1, 1) {
		return nil
	}
	return func(offset int64) {
		h := w.Header()
		loc, lim := h.Values("Location"), h.Values(hdrUploadLimit)
		h.Del("Location")
		h.Del(hdrUploadLimit)
		h.Set(hdrUploadOffset, strconv.FormatInt(offset, 10))
		w.WriteHeader(statusUploadResumptionSupported)
		h.Del(hdrUploadOffset)
		if loc != nil {
			h["Location"] = loc
		}
		if lim != nil {
			h[hdrUploadLimit] = lim
		}
	}
}

// completeLength fixes the length at the end of the representation: an
// unknown length becomes the offset, a known one must have been reached.
func (g *Gateway) completeLength(ctx context.Context, u *state.Upload, tok state.Token) error {
	if u.DeferLength() {
		return g.declareLength(ctx, u, tok, u.Offset)
	}
	if u.Offset != u.Length {
		return protoErr(errInconsistentLength, "Upload-Complete: ?1 at offset %d, but the upload's length is %d", u.Offset, u.Length)
	}
	return nil
}

// ietfHead is offset retrieval.
func (g *Gateway) ietfHead(c echo.Context, v int64) error {
	u, err := g.current(c)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	setProgress(h, u)
	if u.Length >= 0 {
		h.Set(hdrUploadLength, strconv.FormatInt(u.Length, 10))
	}
	g.setLimit(h, v, u)
	h.Set("Cache-Control", "no-store")
	return c.NoContent(http.StatusNoContent)
}

// ietfGet is offset retrieval from version 8 on (the draft gives the
// content no meaning); earlier versions download, as tus does.
func (g *Gateway) ietfGet(c echo.Context, v int64) error {
	if v < 8 {
		return g.get(c)
	}
	return g.ietfHead(c, v)
}

// ietfAppend appends the body at Upload-Offset (PATCH).
func (g *Gateway) ietfAppend(c echo.Context, v int64) error {
	id, err := uploadID(c)
	if err != nil {
		return err
	}
	r := c.Request()
	ctx := withRequest(r.Context(), r)
	if v >= 6 && !hasMediaType(r, partialUpload) {
		return protoErr(errMediaType, "an append needs Content-Type: %s", partialUpload)
	}
	offset, ok := sfSize(r, hdrUploadOffset)
	if !ok {
		return protoErr(errBadRequest, "Upload-Offset (a non-negative integer) is required")
	}
	complete, ok := sfBool(r, hdrUploadComplete)
	if !ok && v >= 8 {
		return protoErr(errBadRequest, "Upload-Complete (?0 or ?1) is required")
	}
	declared, hasLength := sfSize(r, hdrUploadLength)
	lease, u, err := g.lockForAppend(ctx, r, id)
	if err != nil {
		return err
	}
	defer g.unlock(lease)
	h := c.Response().Header()
	g.setLimit(h, v, u)
	switch {
	case offset != u.Offset:
		h.Set(hdrUploadOffset, strconv.FormatInt(u.Offset, 10))
		h.Set(hdrUploadComplete, sfBoolText(false))
		return mismatchErr(u.Offset, offset)
	case u.Finished && r.ContentLength != 0:
		setProgress(h, u)
		return protoErr(errInconsistentLength, "the upload is complete at %d bytes and takes no more", u.Length)
	case u.Finished:
		// An empty append to a complete upload (its last response was
		// lost, or tus completed it at its length): the answer again.
		setProgress(h, u)
		return c.NoContent(http.StatusNoContent)
	}
	// The length this request implies, agreed between Upload-Length and
	// Upload-Complete before anything is stored: a refused request must not
	// leave a length behind.
	if complete && r.ContentLength >= 0 {
		end := u.Offset + r.ContentLength
		if hasLength && declared != end {
			return protoErr(errInconsistentLength, "Upload-Length %d, but Upload-Complete: ?1 ends the upload at %d", declared, end)
		}
		declared, hasLength = end, true
	}
	if hasLength {
		if err := g.declareLength(ctx, u, lease.Token(), declared); err != nil {
			return err
		}
	}
	if !u.DeferLength() && r.ContentLength > u.Length-u.Offset {
		return protoErr(errInconsistentLength, "the body has %d bytes but the upload takes %d more", r.ContentLength, u.Length-u.Offset)
	}
	err = g.ietfTransfer(c, u, lease, complete)
	setProgress(h, u)
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// ietfOptions adds the draft's discovery fields to tus's.
func (g *Gateway) ietfOptions(c echo.Context, v int64) error {
	h := c.Response().Header()
	g.setLimit(h, v, nil)
	if v >= 8 {
		h.Set("Accept-Patch", partialUpload) // drafts -10 and -11
	}
	return g.options(c)
}
