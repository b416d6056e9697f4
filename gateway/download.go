package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
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
	if u, err = g.resolveFinal(ctx, u); err != nil {
		return err
	}
	if !u.Finished {
		if !u.Complete() || u.Final() {
			return fmt.Errorf("%w: %d of %s bytes received", errNotFinished, u.Offset, lengthText(u))
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
	if p, ok := g.backend.(presigner); ok && g.cfg.DownloadRedirect > 0 {
		url, err := p.PresignGet(ctx, u, g.cfg.DownloadRedirect)
		if err != nil {
			return fmt.Errorf("presign download of %s: %w", id, err)
		}
		return c.Redirect(http.StatusFound, url)
	}
	md, _ := parseMetadata(u.Metadata) // validated at creation
	ctype, disposition := contentHeaders(md)
	h := c.Response().Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", disposition)
	content := &objectReader{ctx: ctx, rr: g.reader, u: u}
	defer content.Close()
	http.ServeContent(c.Response(), c.Request(), "", time.Time{}, content)
	return nil
}

func (g *Gateway) finishNow(ctx context.Context, id string) (*state.Upload, error) {
	lease, u, err := g.lockAndLoad(ctx, id)
	if err != nil {
		return nil, err
	}
	defer g.unlock(lease)
	return u, g.finish(ctx, u, lease.Token())
}

func lengthText(u *state.Upload) string {
	if u.Length < 0 {
		return "an unknown number of"
	}
	return fmt.Sprint(u.Length)
}

// inlineTypes may be shown by the browser; anything else (HTML, SVG, scripts)
// is served as an attachment so an upload cannot run in our origin.
var inlineTypes = []string{"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif",
	"video/", "audio/", "application/pdf", "text/plain"}

// contentHeaders derives Content-Type and Content-Disposition from the
// filetype and filename metadata. mime.FormatMediaType quotes and, for
// non-ASCII names, RFC 2231-encodes the filename, so a name with quotes,
// CR or LF cannot inject headers.
func contentHeaders(md Metadata) (ctype, disposition string) {
	ctype = "application/octet-stream"
	if t, params, err := mime.ParseMediaType(md["filetype"]); err == nil {
		if f := mime.FormatMediaType(t, params); f != "" {
			ctype = f
		}
	}
	kind := "attachment"
	for _, p := range inlineTypes {
		if strings.HasPrefix(ctype, p) {
			kind = "inline"
			break
		}
	}
	disposition = kind
	if name := md["filename"]; name != "" {
		if d := mime.FormatMediaType(kind, map[string]string{"filename": name}); d != "" {
			disposition = d
		}
	}
	return ctype, disposition
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
}

func (o *objectReader) Read(p []byte) (int, error) {
	if o.pos >= o.u.Length {
		return 0, io.EOF
	}
	if o.body == nil {
		b, err := o.rr.NewRangeReader(o.ctx, o.u, o.pos, o.u.Length-o.pos)
		if err != nil {
			return 0, err
		}
		o.body = b
	}
	n, err := o.body.Read(p)
	o.pos += int64(n)
	return n, err
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
