package instrument

import (
	"context"
	"io"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/state"
)

type backend struct {
	next backends.Backend
	name string
	m    *Metrics
	tr   trace.Tracer
}

// Unwrap lets the gateway find abilities the wrapper does not instrument
// (capabilities, presigning, storage descriptions) on the wrapped backend.
func (w *backend) Unwrap() backends.Backend { return w.next }

// Backend wraps b, named name (a configured backend kind such as "s3"). The
// result offers exactly the optional interfaces (Concater, RangeReader,
// Discarder) that b offers, because the gateway advertises extensions by
// asking for them.
func Backend(b backends.Backend, name string, m *Metrics, tp trace.TracerProvider) backends.Backend {
	w := &backend{next: b, name: name, m: m, tr: tracerOf(tp)}
	c, isC := b.(backends.Concater)
	r, isR := b.(backends.RangeReader)
	d, isD := b.(backends.Discarder)
	cw, rw, dw := concater{w, c}, rangeReader{w, r}, discarder{w, d}
	switch {
	case isC && isR && isD:
		return struct {
			*backend
			concater
			rangeReader
			discarder
		}{w, cw, rw, dw}
	case isC && isR:
		return struct {
			*backend
			concater
			rangeReader
		}{w, cw, rw}
	case isC && isD:
		return struct {
			*backend
			concater
			discarder
		}{w, cw, dw}
	case isR && isD:
		return struct {
			*backend
			rangeReader
			discarder
		}{w, rw, dw}
	case isC:
		return struct {
			*backend
			concater
		}{w, cw}
	case isR:
		return struct {
			*backend
			rangeReader
		}{w, rw}
	case isD:
		return struct {
			*backend
			discarder
		}{w, dw}
	}
	return w
}

func (b *backend) start(ctx context.Context, op string, u *state.Upload) (context.Context, func(error)) {
	attrs := []attribute.KeyValue{attribute.String("tusgate.backend", b.name)}
	if u != nil {
		attrs = append(attrs, attribute.String("tusgate.upload_id", u.ID))
	}
	ctx, c := begin(ctx, b.tr, "backend."+op, attrs...)
	return ctx, func(err error) {
		secs, failed := c.end(err, backends.ErrNotFound)
		b.m.backendSeconds.WithLabelValues(b.name, op).Observe(secs)
		if failed {
			b.m.backendErrors.WithLabelValues(b.name, op).Inc()
		}
	}
}

func (b *backend) Create(ctx context.Context, u *state.Upload) (h map[string]string, err error) {
	ctx, done := b.start(ctx, "create", u)
	defer func() { done(err) }()
	return b.next.Create(ctx, u)
}

// Write is one span for the whole body; the commits it makes are children
// of it (the state wrapper sees the context the backend passes on).
func (b *backend) Write(ctx context.Context, u *state.Upload, r io.Reader, commit backends.CommitFunc) (err error) {
	ctx, done := b.start(ctx, "write", u)
	defer func() { done(err) }()
	return b.next.Write(ctx, u, r, commit)
}

func (b *backend) Finish(ctx context.Context, u *state.Upload, parts []state.Part) (err error) {
	ctx, done := b.start(ctx, "finish", u)
	defer func() { done(err) }()
	return b.next.Finish(ctx, u, parts)
}

func (b *backend) Delete(ctx context.Context, u *state.Upload) (err error) {
	ctx, done := b.start(ctx, "delete", u)
	defer func() { done(err) }()
	return b.next.Delete(ctx, u)
}

func (b *backend) Ping(ctx context.Context) (err error) {
	ctx, done := b.start(ctx, "ping", nil)
	defer func() { done(err) }()
	return b.next.Ping(ctx)
}

func (b *backend) Close() error { return b.next.Close() }

type concater struct {
	b    *backend
	next backends.Concater
}

func (c concater) Concat(ctx context.Context, final *state.Upload, partials []*state.Upload) (err error) {
	ctx, done := c.b.start(ctx, "concat", final)
	defer func() { done(err) }()
	return c.next.Concat(ctx, final, partials)
}

type rangeReader struct {
	b    *backend
	next backends.RangeReader
}

// NewRangeReader times opening the reader; streaming it to the client is
// the request's time, not the backend's.
func (r rangeReader) NewRangeReader(ctx context.Context, u *state.Upload, offset, length int64) (rc io.ReadCloser, err error) {
	ctx, done := r.b.start(ctx, "read", u)
	defer func() { done(err) }()
	return r.next.NewRangeReader(ctx, u, offset, length)
}

type discarder struct {
	b    *backend
	next backends.Discarder
}

func (d discarder) Discard(ctx context.Context, u *state.Upload, p backends.Progress) (err error) {
	ctx, done := d.b.start(ctx, "discard", u)
	defer func() { done(err) }()
	return d.next.Discard(ctx, u, p)
}
