package gateway

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tusgate/tusgate/hooks"
)

// metrics are registered on the Registerer given in Config (no global
// registry), so several gateways can live in one process (tests).
type metrics struct {
	created    prometheus.Counter
	finished   prometheus.Counter
	terminated prometheus.Counter
	expired    prometheus.Counter
	rewound    prometheus.Counter
	bytes      prometheus.Counter
	active     prometheus.Gauge
	// hooks counts hook calls by event (a closed set: hooks.All) and
	// outcome: allowed, rejected or failed for pre-* events, queued or
	// failed for post-* events (their delivery is the dispatcher's).
	hooks *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		created:    prometheus.NewCounter(prometheus.CounterOpts{Name: "tusgate_uploads_created_total", Help: "Uploads created."}),
		finished:   prometheus.NewCounter(prometheus.CounterOpts{Name: "tusgate_uploads_finished_total", Help: "Uploads whose object was assembled."}),
		terminated: prometheus.NewCounter(prometheus.CounterOpts{Name: "tusgate_uploads_terminated_total", Help: "Uploads deleted by clients."}),
		expired:    prometheus.NewCounter(prometheus.CounterOpts{Name: "tusgate_uploads_expired_total", Help: "Unfinished uploads removed by the sweeper."}),
		rewound: prometheus.NewCounter(prometheus.CounterOpts{Name: "tusgate_uploads_rewound_total",
			Help: "Uploads whose offset went back because the store lost bytes it had acknowledged."}),
		bytes:  prometheus.NewCounter(prometheus.CounterOpts{Name: "tusgate_received_bytes_total", Help: "Upload bytes committed."}),
		active: prometheus.NewGauge(prometheus.GaugeOpts{Name: "tusgate_active_writes", Help: "Requests currently streaming upload bytes."}),
		hooks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tusgate_hook_calls_total",
			Help: "Hook calls by event and outcome (pre-*: allowed, rejected, failed; post-*: queued, failed)."}, []string{"event", "outcome"}),
	}
	// Every series of the closed set exists from the start, at zero, so a
	// rate() over it works before the first call.
	for _, t := range hooks.All {
		outcomes := []string{"queued", "failed"}
		if t.Blocking() {
			outcomes = []string{"allowed", "rejected", "failed"}
		}
		for _, o := range outcomes {
			m.hooks.WithLabelValues(string(t), o)
		}
	}
	if reg != nil {
		reg.MustRegister(m.created, m.finished, m.terminated, m.expired, m.rewound, m.bytes, m.active, m.hooks)
	}
	return m
}

// methodLabel maps a request method to a closed set, so that invented
// methods cannot create metric series or bloat log lines.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}
