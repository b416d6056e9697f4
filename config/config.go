// Package config reads tusgate's settings from, in order of precedence,
// command-line flags, TUSGATE_* environment variables and an optional YAML
// file, and validates them so that a bad value stops start-up with a message
// naming the setting.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tusgate/tusgate/config/size"
	"github.com/tusgate/tusgate/hooks"
	"github.com/tusgate/tusgate/state"
	"gopkg.in/yaml.v3"
)

// Config is the complete configuration of a tusgate process.
type Config struct {
	Listen           string
	BasePath         string
	Store            string
	State            string
	MaxSize          int64
	Expiration       time.Duration
	SweepInterval    time.Duration
	CORSOrigins      []string
	BehindProxy      bool
	LockTimeout      time.Duration
	IdleTimeout      time.Duration
	MinUploadRate    int64
	RateWindow       time.Duration
	HeaderTimeout    time.Duration
	KeepaliveTimeout time.Duration
	WriteTimeout     time.Duration
	MaxConnections   int
	MaxHeaderBytes   int
	MaxMetadataSize  int
	// MaxConcatPartials and MaxRanges: 0 selects the gateway's default.
	MaxConcatPartials   int
	MaxRanges           int
	JWTJWKSURL          string
	JWTKeyFile          string
	JWTIssuer           string
	JWTAudience         string
	HooksHTTP           string
	HooksEnabledEvents  []hooks.Type
	HooksForwardHeaders []string
	HooksHiddenHeaders  []string
	HooksTimeout        time.Duration
	HooksAccessCacheTTL time.Duration
	HooksSizeLimit      int64
	HooksProgress       time.Duration
	LeaseTTL            time.Duration
	Retention           time.Duration
	MemoryBudget        int64
	DownloadRedirect    time.Duration
	ShutdownTimeout     time.Duration
	DrainDelay          time.Duration
	MetricsListen       string
	Metrics             bool
	Pprof               bool
	LogLevel            string
	LogFormat           string
	// InstanceName names this process where it holds locks ("" until the
	// command fills in the host name).
	InstanceName string

	// UI serves the operator page (Uppy, uploads in progress) at /ui/.
	UI bool
}

// setting describes one option once, for flags, environment and file alike.
type setting struct {
	name, def, usage string
	parse            func(c *Config, v string) error
}

// boolean settings (those defaulting to true or false) may stand alone on
// the command line: --pprof means --pprof=true.
func (s setting) boolean() bool { return s.def == "true" || s.def == "false" }

// boolSetting is a setting that takes true or false.
func boolSetting(name, def, usage string, field func(*Config) *bool) setting {
	return setting{name: name, def: def, usage: usage, parse: func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errors.New("must be true or false")
		}
		*field(c) = b
		return nil
	}}
}

// flagValue holds a setting's raw text from the command line; parsing and
// validation happen once for every source in Load.
type flagValue struct {
	v       string
	boolean bool
}

func (f *flagValue) String() string     { return f.v }
func (f *flagValue) Set(v string) error { f.v = v; return nil }
func (f *flagValue) IsBoolFlag() bool   { return f.boolean }

func settings() []setting {
	return []setting{
		{"listen", ":8080", "address to listen on (port 0 picks a free port)", func(c *Config, v string) error { c.Listen = v; return nil }},
		{"base-path", "/files/", "URL path where uploads are created", func(c *Config, v string) error {
			if !strings.HasPrefix(v, "/") {
				return errors.New("must start with /")
			}
			c.BasePath = v
			return nil
		}},
		{"store", "file://./data", "where bytes go: file:///dir, s3://bucket/prefix?endpoint=..., azblob://container/prefix, gs://bucket/prefix", func(c *Config, v string) error { c.Store = v; return checkURL(v) }},
		{"state", "bolt://./data/tusgate.db", "where upload state goes: bolt:///path/file.db (embedded) or redis://host:port/db", func(c *Config, v string) error { c.State = v; return checkURL(v) }},
		{"max-size", "0", "largest upload accepted, e.g. 10GiB (0: no limit)", func(c *Config, v string) (err error) { c.MaxSize, err = parseSize(v); return }},
		{"expiration", "24h", "unfinished uploads are removed after this long without activity (0: never)", durationInto(func(c *Config) *time.Duration { return &c.Expiration }, true)},
		{"sweep-interval", "1m", "how often expired uploads are removed", durationInto(func(c *Config) *time.Duration { return &c.SweepInterval }, false)},
		{"cors-origins", "*", "comma-separated browser origins allowed (* for any)", func(c *Config, v string) error {
			c.CORSOrigins = nil
			for _, o := range strings.Split(v, ",") {
				if o = strings.TrimSpace(o); o != "" {
					c.CORSOrigins = append(c.CORSOrigins, o)
				}
			}
			if len(c.CORSOrigins) == 0 {
				return errors.New("needs at least one origin")
			}
			return nil
		}},
		boolSetting("behind-proxy", "false", "trust Forwarded and X-Forwarded-Host/Proto for upload URLs", func(c *Config) *bool { return &c.BehindProxy }),
		{"lock-timeout", "15s", "how long a request waits for an upload held by another request before 423", durationInto(func(c *Config) *time.Duration { return &c.LockTimeout }, false)},
		{"idle-timeout", "1m", "end an upload body that sends nothing for this long (what arrived is kept)", durationInto(func(c *Config) *time.Duration { return &c.IdleTimeout }, false)},
		{"min-upload-rate", "512", "slowest upload body accepted, in bytes per second over each --rate-window (0: no minimum)", func(c *Config, v string) (err error) { c.MinUploadRate, err = parseSize(v); return }},
		{"rate-window", "1m", "window over which --min-upload-rate is measured", durationInto(func(c *Config) *time.Duration { return &c.RateWindow }, false)},
		{"header-timeout", "30s", "close a connection whose request headers take longer than this to arrive", durationInto(func(c *Config) *time.Duration { return &c.HeaderTimeout }, false)},
		{"keepalive-timeout", "1m", "close a kept-alive connection that sends no new request for this long", durationInto(func(c *Config) *time.Duration { return &c.KeepaliveTimeout }, false)},
		{"write-timeout", "1m", "end a response (download) that makes no progress for this long", durationInto(func(c *Config) *time.Duration { return &c.WriteTimeout }, false)},
		{"max-connections", "0", "most concurrent client connections (0: three quarters of the open-file limit)", intInto(func(c *Config) *int { return &c.MaxConnections })},
		{"max-header-bytes", "64KiB", "largest request header block (431 beyond)", func(c *Config, v string) error {
			n, err := parseSize(v)
			if err == nil && (n < 4096 || n > 16<<20) {
				err = errors.New("must be between 4KiB and 16MiB")
			}
			c.MaxHeaderBytes = int(n)
			return err
		}},
		{"max-metadata-size", "4KiB", "largest Upload-Metadata header stored with an upload (431 beyond)", func(c *Config, v string) error {
			n, err := parseSize(v)
			if err == nil && (n == 0 || n > 1<<20) {
				err = errors.New("must be between 1 byte and 1MiB")
			}
			c.MaxMetadataSize = int(n)
			return err
		}},
		{"max-concat-partials", "100", "most partial uploads one final upload may join (400 beyond)", intInto(func(c *Config) *int { return &c.MaxConcatPartials })},
		{"max-ranges", "16", "most ranges a download may ask for; with more the whole upload is sent", intInto(func(c *Config) *int { return &c.MaxRanges })},
		{"hooks-http", "", "URL of a hook receiver (tusd's JSON); empty: no hooks", func(c *Config, v string) error {
			if v != "" {
				if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					return errors.New("must be an http:// or https:// URL")
				}
			}
			c.HooksHTTP = v
			return nil
		}},
		{"hooks-enabled-events", "pre-create,post-create,post-receive,post-terminate,post-finish", "comma-separated hook events to fire", func(c *Config, v string) (err error) {
			c.HooksEnabledEvents, err = hooks.ParseTypes(v)
			return
		}},
		{"hooks-http-forward-headers", "", "client request headers also set on the call to the receiver", listInto(func(c *Config) *[]string { return &c.HooksForwardHeaders })},
		{"hooks-hidden-headers", "Authorization,Cookie,Proxy-Authorization", "client request headers never put into hook events", listInto(func(c *Config) *[]string { return &c.HooksHiddenHeaders })},
		{"hooks-access-cache-ttl", "5s", "how long a pre-access answer is reused for the same credentials, upload and method", durationInto(func(c *Config) *time.Duration { return &c.HooksAccessCacheTTL }, false)},
		{"hooks-progress-interval", "1s", "most frequent post-receive events of one running upload body (tusd's -progress-hooks-interval)", durationInto(func(c *Config) *time.Duration { return &c.HooksProgress }, false)},
		{"hooks-timeout", "15s", "how long a hook receiver has to answer", durationInto(func(c *Config) *time.Duration { return &c.HooksTimeout }, false)},
		{"hooks-size-limit", "5KiB", "largest hook receiver answer", func(c *Config, v string) error {
			n, err := parseSize(v)
			if err == nil && (n == 0 || n > 1<<20) {
				err = errors.New("must be between 1 byte and 1MiB")
			}
			c.HooksSizeLimit = n
			return err
		}},
		{"jwt-jwks-url", "", "verify a bearer JWT on every request with the keys of this JWKS URL; its subject owns the uploads it creates", func(c *Config, v string) error {
			if v != "" {
				if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					return errors.New("must be an http:// or https:// URL")
				}
			}
			c.JWTJWKSURL = v
			return nil
		}},
		{"jwt-key-file", "", "like --jwt-jwks-url, with the keys from a file (a JWK Set or one PEM public key)", func(c *Config, v string) error { c.JWTKeyFile = v; return nil }},
		{"jwt-issuer", "", "with JWT authentication: the iss tokens must carry", func(c *Config, v string) error { c.JWTIssuer = v; return nil }},
		{"jwt-audience", "", "with JWT authentication: the aud tokens must carry", func(c *Config, v string) error { c.JWTAudience = v; return nil }},
		{"lease-ttl", "10s", "lock lease time; a crashed replica's uploads are free again after it", durationInto(func(c *Config) *time.Duration { return &c.LeaseTTL }, false)},
		{"retention", "168h", "how long state of finished uploads is kept (Redis key TTL)", durationInto(func(c *Config) *time.Duration { return &c.Retention }, false)},
		{"memory-budget", "64MiB", "total memory for part buffers across all uploads (S3)", func(c *Config, v string) (err error) {
			if c.MemoryBudget, err = parseSize(v); err == nil && c.MemoryBudget == 0 {
				err = errors.New("must be positive")
			}
			return
		}},
		{"download-redirect", "0", "answer GET with a redirect to a presigned URL valid this long (0: stream)", durationInto(func(c *Config) *time.Duration { return &c.DownloadRedirect }, true)},
		{"shutdown-timeout", "30s", "how long in-flight requests get to finish on SIGTERM", durationInto(func(c *Config) *time.Duration { return &c.ShutdownTimeout }, false)},
		{"drain-delay", "0s", "on SIGTERM, fail /readyz and keep serving this long before shutting down, so load balancers stop sending", durationInto(func(c *Config) *time.Duration { return &c.DrainDelay }, true)},
		{"metrics-listen", "", "serve /metrics (and pprof) on this address instead of --listen, e.g. :9090", func(c *Config, v string) error { c.MetricsListen = v; return nil }},
		boolSetting("metrics", "true", "serve Prometheus metrics at /metrics", func(c *Config) *bool { return &c.Metrics }),
		boolSetting("ui", "false", "serve the operator page at /ui/: Uppy uploads and the list of uploads in progress (shows file names)", func(c *Config) *bool { return &c.UI }),
		boolSetting("pprof", "false", "serve Go runtime profiles at /debug/pprof/ (keep it off public listeners)", func(c *Config) *bool { return &c.Pprof }),
		{"instance-name", "", "name of this replica in lock records and on the operator page (default: the host name, in Kubernetes the pod name)", func(c *Config, v string) error {
			if v != "" {
				if err := state.CheckInstanceName(v); err != nil {
					return err
				}
			}
			c.InstanceName = v
			return nil
		}},
		{"log-level", "info", "debug, info, warn or error", func(c *Config, v string) error {
			switch v {
			case "debug", "info", "warn", "error":
				c.LogLevel = v
				return nil
			}
			return errors.New("must be debug, info, warn or error")
		}},
		{"log-format", "text", "text or json", func(c *Config, v string) error {
			if v != "text" && v != "json" {
				return errors.New("must be text or json")
			}
			c.LogFormat = v
			return nil
		}},
	}
}

// listInto parses a comma-separated list; empty items are dropped.
func listInto(field func(*Config) *[]string) func(*Config, string) error {
	return func(c *Config, v string) error {
		list := []string{}
		for _, item := range strings.Split(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				list = append(list, item)
			}
		}
		*field(c) = list
		return nil
	}
}

// intInto parses a non-negative integer setting.
func intInto(field func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return errors.New("must be a non-negative integer")
		}
		*field(c) = n
		return nil
	}
}

func durationInto(field func(*Config) *time.Duration, zeroOK bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return errors.New("must be a duration such as 30s, 5m or 24h")
		}
		if d < 0 || (d == 0 && !zeroOK) {
			return errors.New("must be positive")
		}
		*field(c) = d
		return nil
	}
}

// parseSize reads the one size syntax of flags and store URLs (config/size:
// 5M is 5 MiB, 5MB is 5,000,000 bytes).
func parseSize(v string) (int64, error) {
	n, err := size.Parse(v)
	if err != nil {
		return 0, errors.New("must be a size such as 0, 5242880, 100MB, 64M or 10GiB")
	}
	return n, nil
}

func checkURL(v string) error {
	u, err := url.Parse(v)
	if err != nil || u.Scheme == "" {
		return errors.New("must be a URL with a scheme, such as file:///var/lib/tusgate")
	}
	return nil
}

// EnvName is the environment variable for a setting: TUSGATE_ + upper snake.
func EnvName(name string) string {
	return "TUSGATE_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// Load parses args (without the program name). getenv is os.Getenv in
// production and a map lookup in tests. Usage and errors go to out.
func Load(args []string, getenv func(string) string, out io.Writer) (Config, error) {
	fs := flag.NewFlagSet("tusgate", flag.ContinueOnError)
	fs.SetOutput(out)
	configFile := fs.String("config", getenv("TUSGATE_CONFIG"), "YAML file with settings (keys as the flag names)")
	all := settings()
	vals := make(map[string]*flagValue, len(all))
	for _, s := range all {
		vals[s.name] = &flagValue{v: s.def, boolean: s.boolean()}
		fs.Var(vals[s.name], s.name, s.usage+" (env "+EnvName(s.name)+")")
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	fromFile := map[string]string{}
	if *configFile != "" {
		var err error
		if fromFile, err = readFile(*configFile, all); err != nil {
			return Config{}, err
		}
	}
	onCommandLine := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { onCommandLine[f.Name] = true })

	var c Config
	for _, s := range all {
		v, source := vals[s.name].v, "--"+s.name
		if !onCommandLine[s.name] {
			if ev, ok := lookup(getenv, EnvName(s.name)); ok {
				v, source = ev, EnvName(s.name)
			} else if fv, ok := fromFile[s.name]; ok {
				v, source = fv, s.name+" in "+*configFile
			}
		}
		if err := s.parse(&c, v); err != nil {
			return Config{}, fmt.Errorf("invalid %s %q: %w", source, v, err)
		}
	}
	if c.JWTJWKSURL != "" && c.JWTKeyFile != "" {
		return Config{}, errors.New("give --jwt-jwks-url or --jwt-key-file, not both")
	}
	return c, nil
}

func lookup(getenv func(string) string, name string) (string, bool) {
	v := getenv(name)
	return v, v != ""
}

// readFile reads a YAML mapping of setting names to scalar values.
func readFile(path string, all []setting) (map[string]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config file: %w", err)
	}
	var doc map[string]yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	known := map[string]bool{}
	for _, s := range all {
		known[s.name] = true
	}
	out := make(map[string]string, len(doc))
	for k, n := range doc {
		if !known[k] {
			return nil, fmt.Errorf("config file %s: unknown setting %q", path, k)
		}
		if n.Kind == yaml.SequenceNode { // cors-origins may be a list
			var items []string
			if err := n.Decode(&items); err != nil {
				return nil, fmt.Errorf("config file %s: %s: %w", path, k, err)
			}
			out[k] = strings.Join(items, ",")
			continue
		}
		if n.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("config file %s: %s must be a single value", path, k)
		}
		out[k] = n.Value
	}
	return out, nil
}
