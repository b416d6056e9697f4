// Package instrument wraps a backends.Backend, a state.Store and a
// state.Locker with Prometheus metrics and OpenTelemetry spans, so that no
// backend or store has to know about either. Every label value comes from a
// closed set fixed here or by the operator's configuration (the backend and
// store names), never from a request.
package instrument

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/tusgate/tusgate/state"
)

// ScopeName is the instrumentation scope of the spans made here.
const ScopeName = "github.com/tusgate/tusgate/instrument"

// Metrics are the collectors the wrappers update. Create them once per
// registry with NewMetrics.
type Metrics struct {
	backendSeconds *prometheus.HistogramVec
	backendErrors  *prometheus.CounterVec
	stateSeconds   *prometheus.HistogramVec
	stateErrors    *prometheus.CounterVec
	fenced         prometheus.Counter
	lockWait       *prometheus.HistogramVec
	releaseSent    prometheus.Counter
	releaseAsked   prometheus.Counter
	releaseDone    prometheus.Counter
	leasesLost     prometheus.Counter
	takeovers      *prometheus.CounterVec
	locksHeld      prometheus.Gauge
}

var (
	backendOps = []string{"create", "write", "finish", "delete", "concat", "read", "discard", "ping"}
	stateOps   = []string{"create", "get", "parts", "commit", "delete", "stop", "expired", "ping"}
	lockResult = []string{"acquired", "timeout", "error"}
)

// latencyBuckets span a Redis round trip (sub-millisecond) to a large S3
// part upload or a completion of thousands of parts (minutes).
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}

// NewMetrics registers the wrappers' collectors on reg. backend and store
// name the configured implementations (e.g. "s3", "redis"); all label
// combinations are created up front so that rates start at zero.
func NewMetrics(reg prometheus.Registerer, backend, store string) *Metrics {
	m := &Metrics{
		backendSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "tusgate_backend_operation_duration_seconds", Help: "Storage backend calls by backend and operation.",
			Buckets: latencyBuckets,
		}, []string{"backend", "operation"}),
		backendErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tusgate_backend_operation_errors_total", Help: "Storage backend calls that failed, by backend and operation.",
		}, []string{"backend", "operation"}),
		stateSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "tusgate_state_operation_duration_seconds", Help: "State store calls by store and operation.",
			Buckets: latencyBuckets,
		}, []string{"store", "operation"}),
		stateErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tusgate_state_operation_errors_total", Help: "State store calls that failed (not-found answers excluded), by store and operation.",
		}, []string{"store", "operation"}),
		fenced: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tusgate_state_fenced_commits_total", Help: "Commits refused because the lease's fencing token was no longer current.",
		}),
		lockWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "tusgate_lock_wait_seconds", Help: "Time to obtain an upload's lock, by result.",
			Buckets: latencyBuckets,
		}, []string{"result"}),
		releaseSent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tusgate_lock_release_requests_sent_total", Help: "Lock requests here that found the upload held and asked its holder to release.",
		}),
		takeovers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tusgate_lock_takeovers_total", Help: "Locks granted here on uploads another lease had held, by how the holder lost it (released, broken: dead holder, lapsed).",
		}, []string{"how"}),
		releaseAsked: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tusgate_lock_release_requests_received_total", Help: "Leases held here that another request asked to release (takeovers).",
		}),
		releaseDone: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tusgate_lock_release_requests_answered_total", Help: "Leases released here after a release request.",
		}),
		leasesLost: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tusgate_lock_leases_lost_total", Help: "Leases lost while held (renewal failed or lapsed).",
		}),
		locksHeld: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tusgate_active_uploads", Help: "Uploads whose lock this process holds (being written, finished or deleted).",
		}),
	}
	for _, op := range backendOps {
		m.backendSeconds.WithLabelValues(backend, op)
		m.backendErrors.WithLabelValues(backend, op)
	}
	for _, op := range stateOps {
		m.stateSeconds.WithLabelValues(store, op)
		m.stateErrors.WithLabelValues(store, op)
	}
	for _, r := range lockResult {
		m.lockWait.WithLabelValues(r)
	}
	for _, how := range state.Takeovers() {
		m.takeovers.WithLabelValues(string(how))
	}
	if reg != nil {
		reg.MustRegister(m.backendSeconds, m.backendErrors, m.stateSeconds, m.stateErrors, m.fenced,
			m.lockWait, m.releaseSent, m.takeovers, m.releaseAsked, m.releaseDone, m.leasesLost, m.locksHeld)
	}
	return m
}

// Metrics hear the state store's waiters (set them as its Observer).
var _ state.LockObserver = (*Metrics)(nil)

// ReleaseSent implements state.LockObserver.
func (m *Metrics) ReleaseSent() { m.releaseSent.Inc() }

// TookOver implements state.LockObserver; how is one of state.Takeovers.
func (m *Metrics) TookOver(how state.Takeover) { m.takeovers.WithLabelValues(string(how)).Inc() }

func tracerOf(tp trace.TracerProvider) trace.Tracer {
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	return tp.Tracer(ScopeName)
}

// call times one operation: a span named name (a child of the request's
// span in ctx) and an observation on the histogram. ignore tells errors
// that are answers rather than failures (not found, locked).
type call struct {
	span  trace.Span
	start time.Time
}

func begin(ctx context.Context, tr trace.Tracer, name string, attrs ...attribute.KeyValue) (context.Context, call) {
	ctx, span := tr.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	return ctx, call{span: span, start: time.Now()}
}

// end finishes the span and returns the elapsed seconds; failed says
// whether err counts as a failure.
func (c call) end(err error, answers ...error) (seconds float64, failed bool) {
	seconds = time.Since(c.start).Seconds()
	if err != nil {
		failed = true
		for _, a := range answers {
			if errors.Is(err, a) {
				failed = false
			}
		}
		if failed {
			c.span.RecordError(err)
			c.span.SetStatus(codes.Error, "failed")
		}
	}
	c.span.End()
	return seconds, failed
}
