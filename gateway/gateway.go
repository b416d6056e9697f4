// Package gateway speaks the tus 1.0.0 protocol over HTTP (Echo). It knows
// the protocol and nothing about storage SDKs: bytes go to a backends.Backend,
// state to a state.Store fenced by a state.Locker.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/state"
)

const (
	tusVersion = "1.0.0"

	hdrTusResumable   = "Tus-Resumable"
	hdrTusVersion     = "Tus-Version"
	hdrTusExtension   = "Tus-Extension"
	hdrTusMaxSize     = "Tus-Max-Size"
	hdrTusChecksumAlg = "Tus-Checksum-Algorithm"
	hdrUploadOffset   = "Upload-Offset"
	hdrUploadLength   = "Upload-Length"
	hdrUploadDefer    = "Upload-Defer-Length"
	hdrUploadMetadata = "Upload-Metadata"
	hdrUploadConcat   = "Upload-Concat"
	hdrUploadExpires  = "Upload-Expires"
	hdrUploadChecksum = "Upload-Checksum"
	hdrMethodOverride = "X-Http-Method-Override" // canonical form of X-HTTP-Method-Override

	offsetOctetStream = "application/offset+octet-stream"
)

// Config holds the gateway's protocol settings.
type Config struct {
	// BasePath is where uploads are created, e.g. "/files/".
	BasePath string
	// MaxSize caps an upload's length in bytes; 0 means no cap.
	MaxSize int64
	// Expiration is how long an unfinished upload lives after its last
	// activity; 0 disables expiry.
	Expiration time.Duration
	// SweepInterval is how often expired uploads are removed.
	SweepInterval time.Duration
	// CORSOrigins are the allowed browser origins ("*" for any).
	CORSOrigins []string
	// BehindProxy trusts Forwarded / X-Forwarded-Host / X-Forwarded-Proto
	// when building upload URLs.
	BehindProxy bool
	// LockTimeout bounds how long a request waits for an upload's lock
	// (after asking the holder to release) before answering 423.
	LockTimeout time.Duration
	// IdleTimeout ends a request body that sends nothing for this long.
	IdleTimeout time.Duration
	// MinUploadRate (bytes per second) and RateWindow: a body slower than
	// this over a window is ended (408); what arrived is kept. 0 disables.
	MinUploadRate int64
	RateWindow    time.Duration
	// WriteTimeout ends a response (a download) that makes no progress for
	// this long, so a client that stops reading cannot pin a connection.
	WriteTimeout time.Duration
	// MaxMetadataSize caps the stored Upload-Metadata header (431 beyond).
	MaxMetadataSize int
	// MaxConcatPartials caps the partials of one final upload (400 beyond);
	// Upload-Concat may be 256 bytes per partial (431 beyond).
	MaxConcatPartials int
	// MaxRanges is the most ranges a GET may ask for; with more, the whole
	// upload is sent (RFC 9110 lets a server ignore Range).
	MaxRanges int
	// DownloadRedirect, when > 0 and the backend can presign, answers GET
	// with a redirect to a presigned URL valid this long.
	DownloadRedirect time.Duration
	// Auth, when set, authenticates every request: a new upload is owned by
	// the request's subject, and only that subject may touch it.
	Auth Authenticator
	// Hooks reports the upload's events to receivers (zero: none).
	Hooks  Hooks
	Logger *slog.Logger
	// Registerer receives the gateway's Prometheus metrics (nil: none).
	Registerer prometheus.Registerer
	// TracerProvider makes the per-request spans (nil: no tracing).
	TracerProvider trace.TracerProvider
	// Propagator reads the client's trace context (nil: W3C traceparent).
	Propagator propagation.TextMapPropagator
}

func (c *Config) setDefaults() {
	if c.BasePath == "" {
		c.BasePath = "/files/"
	}
	if !strings.HasPrefix(c.BasePath, "/") {
		c.BasePath = "/" + c.BasePath
	}
	if !strings.HasSuffix(c.BasePath, "/") {
		c.BasePath += "/"
	}
	if c.SweepInterval <= 0 {
		c.SweepInterval = time.Minute
	}
	if len(c.CORSOrigins) == 0 {
		c.CORSOrigins = []string{"*"}
	}
	if c.LockTimeout <= 0 {
		c.LockTimeout = 15 * time.Second
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = time.Minute
	}
	if c.RateWindow <= 0 {
		c.RateWindow = time.Minute
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = time.Minute
	}
	if c.MaxMetadataSize <= 0 {
		c.MaxMetadataSize = DefaultMaxMetadataSize
	}
	if c.MaxConcatPartials <= 0 {
		c.MaxConcatPartials = DefaultMaxConcatPartials
	}
	if c.MaxRanges <= 0 {
		c.MaxRanges = DefaultMaxRanges
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Defaults of the limits in Config.
const (
	DefaultMaxMetadataSize   = 4 << 10
	DefaultMaxConcatPartials = 100
	DefaultMaxRanges         = 16
	// concatBytesPerPartial bounds Upload-Concat: an absolute upload URL
	// fits easily.
	concatBytesPerPartial = 256
)

// Gateway is the tus HTTP handler.
type Gateway struct {
	cfg     Config
	store   state.Store
	locker  state.Locker
	backend backends.Backend
	log     *slog.Logger
	echo    *echo.Echo
	metrics *metrics
	obs     *observer

	access     *accessCache
	concater   backends.Concater
	reader     backends.RangeReader
	caps       backends.Capabilities
	extensions string

	// shutdown is cancelled when the server begins shutting down, so that
	// in-flight bodies stop reading and store what they received.
	shutdown      context.Context
	beginShutdown context.CancelFunc
}

// New builds a gateway over the given state store, locker and backend.
func New(cfg Config, store state.Store, locker state.Locker, backend backends.Backend) (*Gateway, error) {
	cfg.setDefaults()
	if store == nil || locker == nil || backend == nil {
		return nil, errors.New("gateway: store, locker and backend are required")
	}
	if cfg.MaxSize < 0 {
		return nil, fmt.Errorf("gateway: max size must not be negative")
	}
	g := &Gateway{
		cfg: cfg, store: store, locker: locker, backend: backend,
		log:     slog.New(LogHandler(cfg.Logger.Handler())),
		metrics: newMetrics(cfg.Registerer),
		obs:     newObserver(cfg),
	}
	g.shutdown, g.beginShutdown = context.WithCancel(context.Background())
	g.access = newAccessCache(cfg.Hooks.AccessCacheSize, cfg.Hooks.AccessCacheTTL)
	g.concater, _ = backend.(backends.Concater)
	g.reader, _ = backend.(backends.RangeReader)
	if err := g.applyCapabilities(backends.CapabilitiesOf(backend)); err != nil {
		return nil, err
	}
	g.extensions = g.extensionList()
	g.echo = g.routes()
	return g, nil
}

// applyCapabilities bounds the gateway by what the backend can do: the
// smaller of --max-size and the backend's largest object is the limit, and
// what the backend refuses is neither advertised nor attempted.
func (g *Gateway) applyCapabilities(c backends.Capabilities) error {
	g.caps = c
	if c.MaxObjectSize > 0 && (g.cfg.MaxSize == 0 || c.MaxObjectSize < g.cfg.MaxSize) {
		g.cfg.MaxSize = c.MaxObjectSize
	}
	if !c.Concatenation {
		g.concater = nil
	}
	if !c.PresignedDownload {
		g.cfg.DownloadRedirect = 0
	}
	if c.MaxUploadAge > 0 && (g.cfg.Expiration <= 0 || g.cfg.Expiration > c.MaxUploadAge) {
		return fmt.Errorf("gateway: the backend drops the parts of unfinished uploads after %v; "+
			"set an expiration of at most that (now %v, 0 means never)", c.MaxUploadAge, g.cfg.Expiration)
	}
	return nil
}

func (g *Gateway) extensionList() string {
	ext := []string{"creation", "creation-with-upload"}
	if g.caps.DeferredLength {
		ext = append(ext, "creation-defer-length")
	}
	ext = append(ext, "termination")
	if g.cfg.Expiration > 0 {
		ext = append(ext, "expiration")
	}
	ext = append(ext, "checksum", "checksum-trailer")
	if g.concater != nil {
		ext = append(ext, "concatenation", "concatenation-unfinished")
	}
	return strings.Join(ext, ",")
}

// ServeHTTP makes the gateway an http.Handler.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) { g.echo.ServeHTTP(w, r) }

// BeginShutdown makes in-flight uploads stop reading, store what they have
// received and answer; call it before http.Server.Shutdown.
func (g *Gateway) BeginShutdown() { g.beginShutdown() }

func (g *Gateway) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = g.handleError
	// Before routing: the override decides the route.
	e.Pre(g.tusHeaders, g.methodOverride)
	// After routing, so the route template is known; it renders errors
	// itself, so the status it counts is final.
	e.Use(g.observe)
	e.Use(middleware.CORSWithConfig(g.corsConfig()))
	e.Use(g.checkVersion)

	e.GET("/healthz", g.healthz)
	e.GET("/readyz", g.readyz)

	base := strings.TrimSuffix(g.cfg.BasePath, "/")
	for _, p := range []string{base + "/", base} {
		if p == "" {
			continue
		}
		e.OPTIONS(p, g.byProtocol(g.options, g.ietfOptions))
		e.POST(p, g.byProtocol(g.post, g.ietfCreate))
		// The draft creates uploads with any method that carries content.
		e.PUT(p, g.byProtocol(methodNotAllowed, g.ietfCreate))
	}
	up := base + "/:id"
	e.OPTIONS(up, g.byProtocol(g.options, g.ietfOptions))
	e.HEAD(up, g.byProtocol(g.head, g.ietfHead))
	e.PATCH(up, g.byProtocol(g.patch, g.ietfAppend))
	e.DELETE(up, g.delete)
	e.GET(up, g.byProtocol(g.get, g.ietfGet))
	return e
}

// tusHeaders puts the headers every response carries in place first, so
// that error responses have them too.
func (g *Gateway) tusHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		if !hasHeader(c.Request(), hdrInterop) {
			// Draft requests are answered without tus headers.
			h.Set(hdrTusResumable, tusVersion)
		}
		h.Set("X-Content-Type-Options", "nosniff")
		start := time.Now()
		// Errors are rendered here rather than after the chain so the
		// status is known for metrics and the access log.
		if err := next(c); err != nil {
			c.Error(err)
		}
		r, status := c.Request(), c.Response().Status
		g.log.DebugContext(r.Context(), "request", "method", methodLabel(r.Method), "path", truncate(r.URL.Path, 200),
			"status", status, "duration", time.Since(start))
		return nil
	}
}

// overridable are the methods X-HTTP-Method-Override may name.
var overridable = []string{http.MethodPatch, http.MethodDelete, http.MethodHead, http.MethodGet, http.MethodOptions, http.MethodPost}

// methodOverride honours X-HTTP-Method-Override on POST (clients that cannot
// send PATCH or DELETE). Only methods this server routes are accepted; the
// value is never used as a method otherwise, so it cannot reach metric
// labels or logs.
func (g *Gateway) methodOverride(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		v, ok := r.Header[hdrMethodOverride]
		if !ok || r.Method != http.MethodPost {
			return next(c)
		}
		if len(v) != 1 || !slices.Contains(overridable, v[0]) {
			return protoErr(errBadRequest, "%s must be one of %s", hdrMethodOverride, strings.Join(overridable, ", "))
		}
		r.Method = v[0]
		return next(c)
	}
}

// singleValued are the tus request headers that carry one value; a repeated
// one is refused rather than silently reading the first.
var singleValued = []string{hdrTusResumable, hdrUploadOffset, hdrUploadLength, hdrUploadDefer,
	hdrUploadMetadata, hdrUploadConcat, hdrUploadChecksum}

// checkVersion refuses tus requests for a protocol version we do not speak,
// and repeated single-valued headers, before any side effect. OPTIONS, GET downloads and probes are exempt.
func (g *Gateway) checkVersion(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if hasHeader(r, hdrInterop) {
			return g.checkInterop(c, next)
		}
		if r.Method == http.MethodOptions || r.Method == http.MethodGet {
			return next(c)
		}
		for _, name := range singleValued {
			if len(r.Header[name]) > 1 {
				return protoErr(errBadRequest, "%s must be sent once", name)
			}
		}
		if v := r.Header.Get(hdrTusResumable); v != tusVersion {
			if v == "" {
				return protoErr(errUnsupportedVersion, "the Tus-Resumable header is required")
			}
			return protoErr(errUnsupportedVersion, "%q (this server speaks %s)", v, tusVersion)
		}
		return next(c)
	}
}

var corsAllowMethods = []string{"POST", "HEAD", "PATCH", "OPTIONS", "GET", "DELETE", "PUT"}

var corsAllowHeaders = []string{
	"Authorization", "Origin", "X-Requested-With", "X-Request-ID", "X-HTTP-Method-Override",
	"Content-Type", "Upload-Length", "Upload-Offset", "Tus-Resumable", "Upload-Metadata",
	"Upload-Defer-Length", "Upload-Concat", "Upload-Checksum",
	"Upload-Complete", "Upload-Draft-Interop-Version", "Content-Disposition",
}

var corsExposeHeaders = []string{
	"Upload-Offset", "Location", "Upload-Length", "Tus-Version", "Tus-Resumable", "Tus-Max-Size",
	"Tus-Extension", "Upload-Metadata", "Upload-Defer-Length", "Upload-Concat", "Upload-Expires",
	"Tus-Checksum-Algorithm", "Content-Range", "Content-Disposition",
	"Upload-Complete", "Upload-Limit", "Upload-Draft-Interop-Version",
}

func (g *Gateway) corsConfig() middleware.CORSConfig {
	return middleware.CORSConfig{
		// Every OPTIONS, preflight or tus discovery, reaches our handler:
		// Echo would answer a preflight 204, which some browsers refuse.
		Skipper:       func(c echo.Context) bool { return c.Request().Method == http.MethodOptions },
		AllowOrigins:  g.cfg.CORSOrigins,
		AllowMethods:  corsAllowMethods,
		AllowHeaders:  corsAllowHeaders,
		ExposeHeaders: corsExposeHeaders,
		MaxAge:        86400,
	}
}

func (g *Gateway) originAllowed(origin string) bool {
	for _, o := range g.cfg.CORSOrigins {
		if o == "*" || strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}

func (g *Gateway) healthz(c echo.Context) error { return c.String(http.StatusOK, "ok\n") }

func (g *Gateway) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
	defer cancel()
	if err := g.store.Ping(ctx); err != nil {
		g.log.WarnContext(ctx, "readiness: state store", "err", err)
		return c.String(http.StatusServiceUnavailable, "state store unavailable\n")
	}
	if err := g.backend.Ping(ctx); err != nil {
		g.log.WarnContext(ctx, "readiness: backend", "err", err)
		return c.String(http.StatusServiceUnavailable, "storage backend unavailable\n")
	}
	return c.String(http.StatusOK, "ready\n")
}
