package gateway

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

const (
	hdrRequestID = "X-Request-ID"
	// maxRequestIDLen bounds a client's request ID before it reaches a log
	// line; longer ones are replaced by a generated one.
	maxRequestIDLen = 128
	tracerName      = "github.com/tusgate/tusgate/gateway"
)

// observer is the request-level telemetry: metrics by closed label sets, a
// server span per request and the request's log attributes.
type observer struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	body     prometheus.Counter
	tracer   trace.Tracer
	prop     propagation.TextMapPropagator

	routesOnce sync.Once
	routes     map[string]bool // route templates registered on the Echo
}

func newObserver(cfg Config) *observer {
	tp, prop := cfg.TracerProvider, cfg.Propagator
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	if prop == nil {
		prop = propagation.TraceContext{}
	}
	o := &observer{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tusgate_http_requests_total", Help: "HTTP requests by method, route template and status code.",
		}, []string{"method", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "tusgate_http_request_duration_seconds", Help: "HTTP request duration by method and route template.",
			// PATCHes stream for minutes; HEADs take milliseconds.
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900},
		}, []string{"method", "route"}),
		body: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tusgate_request_body_bytes_total", Help: "Request body bytes read from clients (before they are stored).",
		}),
		tracer: tp.Tracer(tracerName),
		prop:   prop,
	}
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(o.requests, o.duration, o.body)
	}
	return o
}

// metricRoute is the Echo route template of the request when it is one of
// ours ("/files/:id"), else "other": unmatched paths come from clients.
func (g *Gateway) metricRoute(c echo.Context) string {
	o := g.obs
	o.routesOnce.Do(func() {
		o.routes = map[string]bool{}
		for _, r := range g.echo.Routes() {
			o.routes[r.Path] = true
		}
	})
	if p := c.Path(); o.routes[p] {
		return p
	}
	return "other"
}

// observe is the outermost middleware: request ID, span, log attributes,
// then metrics once the response status is final.
func (g *Gateway) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		r := c.Request()
		method, route := methodLabel(r.Method), g.metricRoute(c)

		info := &requestInfo{id: requestID(r.Header.Get(hdrRequestID))}
		if id := c.Param("id"); validID(id) {
			info.upload = id
		}
		c.Response().Header().Set(hdrRequestID, info.id)

		ctx := g.obs.prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := g.obs.tracer.Start(ctx, method+" "+route, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(
				attribute.String("http.request.method", method),
				attribute.String("http.route", route),
				attribute.String("tusgate.request_id", info.id),
			))
		defer span.End()
		if info.upload != "" {
			span.SetAttributes(attribute.String("tusgate.upload_id", info.upload))
		}
		ctx = context.WithValue(ctx, requestInfoKey{}, info)
		r = r.WithContext(ctx)
		// On the copy only: the server inspects the original's body (an
		// Expect: 100-continue reader) to decide how to finish the request.
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &countingBody{ReadCloser: r.Body, n: g.obs.body}
		}
		c.SetRequest(r)

		err := next(c)
		if err != nil {
			c.Error(err) // so the status is final before it is counted
		}
		status := c.Response().Status
		span.SetAttributes(attribute.Int("http.response.status_code", status))
		if status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(status))
		}
		g.obs.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
		g.obs.duration.WithLabelValues(method, route).Observe(time.Since(start).Seconds())
		return nil
	}
}

// requestID keeps a client's X-Request-ID when it is short and made of
// characters that cannot forge a log line or a header; otherwise it makes
// one.
func requestID(v string) string {
	if v == "" || len(v) > maxRequestIDLen {
		return newID()
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return newID()
		}
	}
	return v
}

type requestInfoKey struct{}

// requestInfo travels in the request's context so that every log line made
// with that context names the request and, once known, the upload.
type requestInfo struct {
	id string

	mu     sync.Mutex
	upload string
}

// noteUpload records the upload a request works on once it is known (a
// POST learns it only when it creates the upload).
func noteUpload(ctx context.Context, id string) {
	if info, ok := ctx.Value(requestInfoKey{}).(*requestInfo); ok {
		info.mu.Lock()
		info.upload = id
		info.mu.Unlock()
	}
}

// RequestID returns the request ID carried by ctx, or "".
func RequestID(ctx context.Context) string {
	if info, ok := ctx.Value(requestInfoKey{}).(*requestInfo); ok {
		return info.id
	}
	return ""
}

// contextHandler adds the request ID, upload ID and trace ID found in the
// record's context to every log record.
type contextHandler struct{ slog.Handler }

// LogHandler wraps h so that records logged with a request's context carry
// request_id, upload_id and trace_id.
func LogHandler(h slog.Handler) slog.Handler {
	if _, ok := h.(contextHandler); ok {
		return h // wrapped once already (by the command and again by New)
	}
	return contextHandler{h}
}

func (h contextHandler) Handle(ctx context.Context, rec slog.Record) error {
	if info, ok := ctx.Value(requestInfoKey{}).(*requestInfo); ok {
		rec.AddAttrs(slog.String("request_id", info.id))
		info.mu.Lock()
		upload := info.upload
		info.mu.Unlock()
		if upload != "" {
			rec.AddAttrs(slog.String("upload_id", upload))
		}
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		rec.AddAttrs(slog.String("trace_id", sc.TraceID().String()))
	}
	return h.Handler.Handle(ctx, rec)
}

func (h contextHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return contextHandler{h.Handler.WithAttrs(as)}
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{h.Handler.WithGroup(name)}
}

type countingBody struct {
	io.ReadCloser
	n prometheus.Counter
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.n.Add(float64(n))
	}
	return n, err
}
