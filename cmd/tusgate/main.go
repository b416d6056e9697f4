// Command tusgate runs the tus upload gateway. It only wires configuration,
// state store, backend and HTTP server together; everything else lives in
// the packages it imports.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/net/netutil"

	"github.com/tusgate/tusgate/backends/bufpool"
	"github.com/tusgate/tusgate/config"
	"github.com/tusgate/tusgate/gateway"
	"github.com/tusgate/tusgate/instrument"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "healthcheck" {
		os.Exit(healthcheck(os.Args[2:], os.Stderr))
	}
	if code, ok := subcommand(os.Args[1:]); ok {
		os.Exit(code)
	}
	cfg, err := config.Load(os.Args[1:], os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tusgate:", err)
		os.Exit(2)
	}
	log := newLogger(cfg)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, log); err != nil {
		log.Error("tusgate stopped", "err", err)
		os.Exit(1)
	}
}

func newLogger(cfg config.Config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel)) // validated by config
	opts := &slog.HandlerOptions{Level: level}
	// Lines logged with a request's context carry its request and upload ID.
	if cfg.LogFormat == "json" {
		return slog.New(gateway.LogHandler(slog.NewJSONHandler(os.Stderr, opts)))
	}
	return slog.New(gateway.LogHandler(slog.NewTextHandler(os.Stderr, opts)))
}

func run(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	tp, flushTraces, err := newTracerProvider(ctx)
	if err != nil {
		return err
	}
	defer func() {
		fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := flushTraces(fctx); err != nil {
			log.Warn("flush traces", "err", err)
		}
	}()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	im := instrument.NewMetrics(reg, scheme(cfg.Store), scheme(cfg.State))
	name := instanceName(cfg)
	st, err := openState(ctx, cfg, name, im, log)
	if err != nil {
		return err
	}
	defer st.Close()
	pool := bufpool.New(cfg.MemoryBudget, 0)
	registerPool(reg, pool)
	be, err := openBackend(ctx, cfg, log, pool)
	if err != nil {
		return err
	}
	defer be.Close()

	bg, stopBackground := context.WithCancel(ctx)
	defer stopBackground()
	hk, disp, err := openHooks(cfg, st, log)
	if err != nil {
		return err
	}
	auth, err := openAuth(bg, cfg)
	if err != nil {
		return err
	}

	gw, err := gateway.New(gateway.Config{
		BasePath: cfg.BasePath, MaxSize: cfg.MaxSize, Expiration: cfg.Expiration,
		SweepInterval: cfg.SweepInterval, CORSOrigins: cfg.CORSOrigins, BehindProxy: cfg.BehindProxy,
		LockTimeout: cfg.LockTimeout, IdleTimeout: cfg.IdleTimeout, DownloadRedirect: cfg.DownloadRedirect,
		MinUploadRate: cfg.MinUploadRate, RateWindow: cfg.RateWindow, WriteTimeout: cfg.WriteTimeout,
		MaxMetadataSize: cfg.MaxMetadataSize, MaxConcatPartials: cfg.MaxConcatPartials, MaxRanges: cfg.MaxRanges,
		Hooks: hk, Auth: auth, Logger: log, Registerer: reg, TracerProvider: tp, Propagator: propagator(),
	}, instrument.Store(st.store, scheme(cfg.State), im, tp), instrument.Locker(st.locker, im, tp),
		instrument.Backend(be, scheme(cfg.Store), im, tp))
	if err != nil {
		return err
	}
	if disp != nil {
		// post-receive answers may stop an upload, which the gateway does.
		disp.OnStop(gw)
		go disp.Run(bg)
	}
	mux := http.NewServeMux()
	// Operator endpoints go on their own listener when one is configured,
	// so they need not be reachable by uploaders.
	opsMux := mux
	if cfg.MetricsListen != "" {
		opsMux = http.NewServeMux()
	}
	if cfg.Metrics {
		opsMux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	}
	// While draining, readiness fails so the load balancer stops sending
	// new requests; everything else is still served.
	var draining atomic.Bool
	mux.Handle("GET /readyz", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if draining.Load() {
			w.Header().Set("Tus-Resumable", "1.0.0")
			http.Error(w, "draining", http.StatusServiceUnavailable)
			return
		}
		gw.ServeHTTP(w, r)
	}))
	if cfg.Pprof {
		// The package registers these on http.DefaultServeMux, which is
		// never served; mount them on this mux only when asked.
		opsMux.HandleFunc("GET /debug/pprof/", pprof.Index)
		opsMux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		opsMux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		opsMux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		opsMux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	if cfg.UI {
		if err := mountUI(mux, cfg, st.store, log); err != nil {
			return err
		}
	}
	mux.Handle("/", gw)

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	// Connections beyond the cap wait in the kernel's accept queue instead
	// of running the process out of file descriptors.
	maxConns := cfg.MaxConnections
	if maxConns == 0 {
		maxConns = defaultMaxConnections()
	}
	ln = netutil.LimitListener(ln, maxConns)
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: cfg.HeaderTimeout,
		// Kept-alive connections that send nothing are closed; request
		// bodies and downloads have their own deadlines in the gateway.
		IdleTimeout:    cfg.KeepaliveTimeout,
		MaxHeaderBytes: cfg.MaxHeaderBytes,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	sweepCtx, stopSweep := context.WithCancel(ctx)
	defer stopSweep()
	go gw.RunSweeper(sweepCtx)

	served := make(chan error, 2)
	if cfg.MetricsListen != "" {
		mln, err := net.Listen("tcp", cfg.MetricsListen)
		if err != nil {
			return fmt.Errorf("listen on --metrics-listen %s: %w", cfg.MetricsListen, err)
		}
		msrv := &http.Server{Handler: opsMux, ReadHeaderTimeout: 10 * time.Second,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
		// It stays up until exit, so the drain can be watched.
		defer msrv.Close()
		go func() { served <- msrv.Serve(mln) }()
		log.Info("tusgate metrics serving", "url", "http://"+displayAddr(mln.Addr())+"/metrics")
	}
	go func() { served <- srv.Serve(ln) }()
	log.Info("tusgate serving", "url", "http://"+displayAddr(ln.Addr())+cfg.BasePath, "max_connections", maxConns,
		"store", redact(cfg.Store), "state", redact(cfg.State), "instance", name)

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	draining.Store(true)
	if cfg.DrainDelay > 0 {
		log.Info("draining: /readyz fails, still serving", "for", cfg.DrainDelay)
		select {
		case <-time.After(cfg.DrainDelay):
		case err := <-served:
			return fmt.Errorf("serve: %w", err)
		}
	}
	log.Info("shutting down: storing what in-flight uploads received")
	gw.BeginShutdown()
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// scheme names a configured store for metric labels and spans ("s3",
// "redis"); it comes from the operator's URL, a closed set.
func scheme(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return "unknown"
	}
	return strings.SplitN(u.Scheme, "+", 2)[0]
}

// displayAddr turns a wildcard listen address into one a person can open.
func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return a.String()
	}
	return net.JoinHostPort("localhost", fmt.Sprint(tcp.Port))
}
