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
	"os"
	"os/signal"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/net/netutil"

	"github.com/tusgate/tusgate/config"
	"github.com/tusgate/tusgate/gateway"
)

func main() {
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
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

func run(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	st, err := openState(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	be, err := openBackend(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer be.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	gw, err := gateway.New(gateway.Config{
		BasePath: cfg.BasePath, MaxSize: cfg.MaxSize, Expiration: cfg.Expiration,
		SweepInterval: cfg.SweepInterval, CORSOrigins: cfg.CORSOrigins, BehindProxy: cfg.BehindProxy,
		LockTimeout: cfg.LockTimeout, IdleTimeout: cfg.IdleTimeout, DownloadRedirect: cfg.DownloadRedirect,
		MinUploadRate: cfg.MinUploadRate, RateWindow: cfg.RateWindow, WriteTimeout: cfg.WriteTimeout,
		MaxMetadataSize: cfg.MaxMetadataSize, MaxConcatPartials: cfg.MaxConcatPartials, MaxRanges: cfg.MaxRanges,
		Logger: log, Registerer: reg,
	}, st.store, st.locker, be)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	if cfg.Metrics {
		mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	}
	if cfg.Pprof {
		// The package registers these on http.DefaultServeMux, which is
		// never served; mount them on this mux only when asked.
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
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

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("tusgate serving", "url", "http://"+displayAddr(ln.Addr())+cfg.BasePath, "max_connections", maxConns,
		"store", redact(cfg.Store), "state", redact(cfg.State))

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
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

// displayAddr turns a wildcard listen address into one a person can open.
func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return a.String()
	}
	return net.JoinHostPort("localhost", fmt.Sprint(tcp.Port))
}
