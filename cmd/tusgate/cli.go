package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/tusgate/tusgate/client"
)

// subcommand runs the client subcommands (upload, status); ok is false when
// args name none of them, and main then runs the server as before.
func subcommand(args []string) (code int, ok bool) {
	if len(args) == 0 {
		return 0, false
	}
	var run func(context.Context, []string, io.Writer, io.Writer) error
	switch args[0] {
	case "upload":
		run = runUpload
	case "status":
		run = runStatus
	default:
		return 0, false
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil:
		return 0, true
	case errors.Is(err, flag.ErrHelp):
		return 0, true
	case errors.Is(err, errUsage):
		fmt.Fprintln(os.Stderr, "tusgate "+args[0]+":", err)
		return 2, true
	case ctx.Err() != nil:
		fmt.Fprintln(os.Stderr, "tusgate "+args[0]+": interrupted;", err)
		return 130, true
	default:
		fmt.Fprintln(os.Stderr, "tusgate "+args[0]+":", err)
		return 1, true
	}
}

var errUsage = errors.New("usage")

// parseInterspersed parses flags that may come before, between or after
// the positional arguments (tusgate upload FILE... --endpoint URL).
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// listFlag collects a repeated flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ", ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// sizeFlag parses sizes such as 8MiB or 5MB.
type sizeFlag int64

func (s *sizeFlag) String() string { return humanize.IBytes(uint64(*s)) }
func (s *sizeFlag) Set(v string) error {
	n, err := humanize.ParseBytes(v)
	if err != nil || n > 1<<40 {
		return fmt.Errorf("size %q: want e.g. 8MiB", v)
	}
	*s = sizeFlag(n)
	return nil
}

// httpOptions are the flags upload and status share.
type httpOptions struct {
	headers listFlag
	retries int
	timeout time.Duration
}

func (o *httpOptions) register(fs *flag.FlagSet) {
	fs.Var(&o.headers, "header", `add a request header, "Name: value" (repeatable), e.g. an auth token`)
	fs.IntVar(&o.retries, "retries", client.DefaultRetry.Attempts, "retries per request on network errors, 423, 429 and 5xx")
	fs.DurationVar(&o.timeout, "connect-timeout", 30*time.Second, "TCP connect and response-header timeout")
}

func (o *httpOptions) config() (client.Config, error) {
	h := http.Header{}
	for _, kv := range o.headers {
		k, v, ok := strings.Cut(kv, ":")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return client.Config{}, fmt.Errorf("%w: --header %q: want \"Name: value\"", errUsage, kv)
		}
		h.Add(k, strings.TrimSpace(v))
	}
	if o.retries < 0 {
		return client.Config{}, fmt.Errorf("%w: --retries must be >= 0", errUsage)
	}
	retry := client.DefaultRetry
	retry.Attempts = o.retries
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = o.timeout
	// Bodies may take hours; only connecting and the answer are bounded.
	return client.Config{HTTP: &http.Client{Transport: tr}, Header: h, Retry: &retry}, nil
}

func newFlagSet(name string, stderr io.Writer, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet("tusgate "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, usage)
		fs.PrintDefaults()
	}
	return fs
}
