// Package protocol is the tus 1.0.0 conformance suite for the gateway, spoken
// over real HTTP (httptest on a loopback port) with plain net/http clients so
// every header is under the test's control.
//
// Run takes a factory for the state store, locker and backend, so the same
// suite runs against the embedded default (bbolt + files) and against Redis +
// S3. Subtests are named after what they check; those covering an edge case of
// the checklist (/work/shared/tus-protocol.md §4) carry its number, e.g.
// "E21_...", and those covering a rule of §1/§2 carry the rule ID, e.g. "HD5_...".
package protocol

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/gateway"
	"github.com/tusgate/tusgate/state"
)

// Env is what one gateway under test runs on. The factory must return fresh,
// isolated storage on every call (its own file, key prefix or bucket prefix)
// and release it with t.Cleanup.
type Env struct {
	Store   state.Store
	Locker  state.Locker
	Backend backends.Backend
}

// basePath is where the suite's gateways create uploads.
const basePath = "/files/"

// maxSize is the Tus-Max-Size of the suite's gateways.
const maxSize = 1 << 20

// suite carries what every subtest shares.
type suite struct {
	newEnv func(t *testing.T) Env
}

// Run runs the whole conformance suite; each rule or edge case is a subtest.
func Run(t *testing.T, newEnv func(t *testing.T) Env) {
	t.Helper()
	if newEnv == nil {
		t.Fatal("protocol: newEnv is nil")
	}
	s := &suite{newEnv: newEnv}
	t.Run("discovery", s.discovery)
	t.Run("version", s.version)
	t.Run("creation", s.creation)
	t.Run("location", s.location)
	t.Run("patch", s.patch)
	t.Run("interruption", s.interruption)
	t.Run("concurrency", s.concurrency)
	t.Run("defer_length", s.deferLength)
	t.Run("creation_with_upload", s.creationWithUpload)
	t.Run("expiration", s.expiration)
	t.Run("checksum", s.checksum)
	t.Run("termination", s.termination)
	t.Run("concatenation", s.concatenation)
	t.Run("download", s.download)
	t.Run("cors", s.cors)
	t.Run("misc", s.misc)
}

// server is one gateway listening on a loopback port.
type server struct {
	env    Env
	gw     *gateway.Gateway
	srv    *httptest.Server
	client *http.Client
	reg    *prometheus.Registry
}

// defaultConfig is the configuration most subtests run with; tests that need
// other settings start from it.
func defaultConfig() gateway.Config {
	return gateway.Config{
		BasePath:    basePath,
		MaxSize:     maxSize,
		Expiration:  time.Hour,
		LockTimeout: 10 * time.Second,
	}
}

// start runs a gateway with cfg on fresh storage until the test ends.
func (s *suite) start(t *testing.T, cfg gateway.Config) *server {
	t.Helper()
	return s.startEnv(t, cfg, s.newEnv(t))
}

func (s *suite) startEnv(t *testing.T, cfg gateway.Config, env Env) *server {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testLogger()
	}
	reg := prometheus.NewRegistry()
	cfg.Registerer = reg
	gw, err := gateway.New(cfg, env.Store, env.Locker, env.Backend)
	if err != nil {
		t.Fatalf("gateway.New: %v", err)
	}
	srv := httptest.NewServer(gw)
	tr := &http.Transport{ExpectContinueTimeout: 5 * time.Second}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		srv.Close()
	})
	return &server{
		env: env, gw: gw, srv: srv, reg: reg,
		client: &http.Client{
			Transport: tr,
			Timeout:   60 * time.Second,
			// Redirects are part of what is being checked, never followed.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// testLogger discards the gateway's log unless TUSGATE_TEST_LOG=1, which
// sends it to stderr for debugging a failure.
func testLogger() *slog.Logger {
	if os.Getenv("TUSGATE_TEST_LOG") == "1" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// counter reads one of the gateway's counters by name.
func (sv *server) counter(t *testing.T, name string) float64 {
	t.Helper()
	mfs, err := sv.reg.Gather()
	if err != nil {
		t.Fatalf("gather metrics: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("metric %s not registered", name)
	return 0
}

// created reads the gateway's counter of created uploads, the suite's way to
// see that a refused request created nothing.
func (sv *server) created(t *testing.T) float64 {
	t.Helper()
	return sv.counter(t, "tusgate_uploads_created_total")
}

// noneCreated fails the test if fn creates an upload.
func (sv *server) noneCreated(t *testing.T, fn func()) {
	t.Helper()
	before := sv.created(t)
	fn()
	if after := sv.created(t); after != before {
		t.Errorf("uploads created went from %v to %v; the refused request must create nothing", before, after)
	}
}
