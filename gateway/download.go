package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/state"
)

// presigner is the optional ability to hand out a direct download URL.
type presigner interface {
	PresignGet(ctx context.Context, u *state.Upload, ttl time.Duration) (string, error)
}

func (g *Gateway) get(c echo.Context) error {
	id, err := uploadID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	u, err := g.load(ctx, id)
	if err != nil {
		return err
	}
	if err := g.authorize(ctx, c.Request(), u); err != nil {
		return err
	}
	if u, err = g.resolveFinal(ctx, u); err != nil {
		return err
	}
	if !u.Finished {
		if !u.Complete() || u.Final() {
			return protoErr(errNotFinished, "%d of %s bytes received", u.Offset, lengthText(u))
		}
		// Every byte arrived but the object was never assembled (the
		// replica died in between): assemble it now.
		if u, err = g.finishNow(ctx, id); err != nil {
			return err
		}
	}
	if g.reader == nil {
		return fmt.Errorf("downloads are %w", errNotImplemented)
	}
	if p, ok := backends.As[presigner](g.backend); ok && g.cfg.DownloadRedirect > 0 {
		url, err := p.PresignGet(ctx, u, g.cfg.DownloadRedirect)
		if err != nil {
			return fmt.Errorf("presign download of %s: %w", id, err)
		}
		return c.Redirect(http.StatusFound, url)
	}
	// The same attributes the backend stored with the object (and a
	// presigned URL overrides), so every download path serves one policy.
	attrs := backends.AttrsOf(u)
	r := c.Request()
	h := c.Response().Header()
	if v := r.Header.Get("Range"); v != "" {
		filtered, unsatisfiable := filterRange(v, g.cfg.MaxRanges)
		if unsatisfiable {
			h.Set("Content-Range", fmt.Sprintf("bytes */%d", u.Length))
			return protoErr(errRangeNotSatisfiable, "no range of Range %.40q has bytes", v)
		}
		setOrDelete(r.Header, "Range", filtered)
	}
	h.Set("Content-Type", attrs.ContentType)
	h.Set("Content-Disposition", attrs.ContentDisposition)
	content := &objectReader{ctx: ctx, rr: g.reader, u: u}
	defer content.Close()
	if strings.Contains(r.Header.Get("Range"), ",") {
		// A multipart answer writes its first part header before reading
		// any bytes; open the object first so missing bytes are found
		// before anything is sent.
		if err := content.open(); err != nil {
			return g.downloadFailed(h, id, err)
		}
	}
	w := &downloadWriter{w: c.Response(), rc: http.NewResponseController(c.Response()), timeout: g.cfg.WriteTimeout}
	http.ServeContent(w, r, "", time.Time{}, content)
	if !w.started {
		if content.err != nil {
			// Nothing was sent yet: answer with the error instead of the
			// status and length ServeContent prepared.
			return g.downloadFailed(h, id, content.err)
		}
		w.flush()
	}
	return nil
}

// downloadFailed answers a download whose bytes could not be read before
// anything was sent: missing bytes are a 404 (a termination or expiry removed
// them), anything else an error the handler logs.
func (g *Gateway) downloadFailed(h http.Header, id string, err error) error {
	for _, k := range []string{"Content-Length", "Content-Range", "Content-Type", "Content-Disposition",
		"Accept-Ranges", "Last-Modified", "Content-Encoding"} {
		h.Del(k)
	}
	return fmt.Errorf("read upload %s: %w", id, err)
}

func setOrDelete(h http.Header, k, v string) {
	if v == "" {
		h.Del(k)
		return
	}
	h.Set(k, v)
}

// filterRange prepares a Range header for http.ServeContent. A header with
// more than max ranges is ignored (the whole upload is sent, as RFC 9110
// allows), so a short request cannot ask for a huge multipart answer.
// Zero-length suffix ranges ("-0"), which select no byte, are dropped;
// unsatisfiable is set when nothing else remains.
func filterRange(v string, max int) (filtered string, unsatisfiable bool) {
	spec, ok := strings.CutPrefix(v, "bytes=")
	if !ok {
		return v, false // another unit: ServeContent ignores or refuses it
	}
	if strings.Count(spec, ",")+1 > max {
		return "", false
	}
	parts := strings.Split(spec, ",")
	kept := parts[:0]
	for _, p := range parts {
		t := strings.TrimSpace(p)
		if len(t) > 1 && t[0] == '-' && strings.Trim(t[1:], "0") == "" {
			continue
		}
		kept = append(kept, p)
	}
	if len(kept) == 0 {
		return "", true
	}
	return "bytes=" + strings.Join(kept, ","), false
}

// downloadWriter holds back the status until the first byte of the body is
// written, so a read that fails at once can still be answered with an
// error, and gives every write a deadline, so a client that stops reading
// is cut off after the write timeout instead of pinning the connection.
type downloadWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
	status  int
	started bool
}

func (d *downloadWriter) Header() http.Header { return d.w.Header() }

func (d *downloadWriter) WriteHeader(code int) {
	if !d.started && d.status == 0 {
		d.status = code
	}
}

func (d *downloadWriter) Write(p []byte) (int, error) {
	d.flush()
	if d.timeout > 0 {
		_ = d.rc.SetWriteDeadline(time.Now().Add(d.timeout))
	}
	return d.w.Write(p)
}

// flush sends the held-back status (for answers without a body, such as 304).
func (d *downloadWriter) flush() {
	if d.started {
		return
	}
	d.started = true
	if d.status == 0 {
		d.status = http.StatusOK
	}
	d.w.WriteHeader(d.status)
}

func (g *Gateway) finishNow(ctx context.Context, id string) (*state.Upload, error) {
	lease, u, err := g.lockAndLoad(ctx, id)
	if err != nil {
		return nil, err
	}
	defer g.unlock(lease)
	// As in patch: a client that hangs up must not cut the assembly off
	// (MinIO loses the parts of a completion cut short).
	return u, g.finish(context.WithoutCancel(ctx), u, lease.Token())
}

func lengthText(u *state.Upload) string {
	if u.Length < 0 {
		return "an unknown number of"
	}
	return fmt.Sprint(u.Length)
}

// objectReader adapts a RangeReader to the io.ReadSeeker that
// http.ServeContent wants, so Range, If-Range and multipart ranges come from
// the standard library. It opens a ranged read lazily at the current
// position and reopens only after a Seek.
type objectReader struct {
	ctx  context.Context
	rr   backends.RangeReader
	u    *state.Upload
	pos  int64
	body io.ReadCloser
	// err is the first read failure, so the handler can answer it when
	// nothing was sent yet.
	err error
}

func (o *objectReader) Read(p []byte) (int, error) {
	if o.pos >= o.u.Length {
		return 0, io.EOF
	}
	if o.body == nil {
		if err := o.open(); err != nil {
			return 0, err
		}
	}
	n, err := o.body.Read(p)
	o.pos += int64(n)
	if err != nil && err != io.EOF && o.err == nil {
		o.err = err
	}
	return n, err
}

// open starts a ranged read at the current position.
func (o *objectReader) open() error {
	b, err := o.rr.NewRangeReader(o.ctx, o.u, o.pos, o.u.Length-o.pos)
	if err != nil {
		if o.err == nil {
			o.err = err
		}
		return err
	}
	o.body = b
	return nil
}

func (o *objectReader) Seek(offset int64, whence int) (int64, error) {
	var pos int64
	switch whence {
	case io.SeekStart:
		pos = offset
	case io.SeekCurrent:
		pos = o.pos + offset
	case io.SeekEnd:
		pos = o.u.Length + offset
	}
	if pos < 0 {
		return 0, errors.New("seek before the start of the object")
	}
	if pos != o.pos && o.body != nil {
		_ = o.body.Close()
		o.body = nil
	}
	o.pos = pos
	return pos, nil
}

func (o *objectReader) Close() error {
	if o.body == nil {
		return nil
	}
	return o.body.Close()
}
