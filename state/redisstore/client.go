package redisstore

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Fail-fast client defaults, used unless the URL sets the same option: a
// dead or partitioned Redis must turn into a quick 503, not a hung request.
const (
	defaultDialTimeout = 2 * time.Second
	defaultIOTimeout   = 2 * time.Second
)

const (
	defaultRedisPort    = "6379"
	defaultSentinelPort = "26379"
)

// newClient builds the client for one of the URL forms documented on Open.
func newClient(rawURL string) (redis.UniversalClient, error) {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return nil, fmt.Errorf("redisstore: URL %q has no scheme", redact(rawURL))
	}
	switch scheme {
	case "redis", "rediss", "unix":
		o, err := parseStandalone(rawURL)
		if err != nil {
			return nil, err
		}
		return redis.NewClient(o), nil
	case "redis+sentinel", "rediss+sentinel":
		o, err := parseSentinel(strings.TrimSuffix(scheme, "+sentinel"), rest)
		if err != nil {
			return nil, err
		}
		return redis.NewFailoverClient(o), nil
	case "redis+cluster", "rediss+cluster":
		o, err := parseCluster(strings.TrimSuffix(scheme, "+cluster"), rest)
		if err != nil {
			return nil, err
		}
		return redis.NewClusterClient(o), nil
	default:
		return nil, fmt.Errorf("redisstore: unsupported URL scheme %q", scheme)
	}
}

func parseStandalone(rawURL string) (*redis.Options, error) {
	o, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, parseError(err)
	}
	failFast(queryOf(rawURL), &o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.MaxRetries)
	smallBuffers(&o.ReadBufferSize, &o.WriteBufferSize, &o.PipelineReadBufferSize, &o.PipelineWriteBufferSize)
	// ParseURL accepts neither of these, so they are always ours.
	o.DialerRetries = 1
	o.ContextTimeoutEnabled = true
	return o, nil
}

// parseError keeps passwords out of URL parse errors, which quote the URL.
func parseError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = redact(ue.URL)
	}
	return fmt.Errorf("redisstore: %w", err)
}

// multiHost is a URL whose authority lists several hosts, which net/url
// cannot parse: "user:pass@h1:p1,h2:p2/path?query".
type multiHost struct {
	user  *url.Userinfo
	hosts []string // host:port, default port filled in
	path  string
	query url.Values
}

func parseMultiHost(rest, defaultPort string) (multiHost, error) {
	var m multiHost
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		u, err := url.Parse("x://" + authority[:at+1] + "h")
		if err != nil {
			return m, errors.New("redisstore: bad user info in URL")
		}
		m.user = u.User
		authority = authority[at+1:]
	}
	for h := range strings.SplitSeq(authority, ",") {
		if h == "" {
			continue
		}
		host, port, err := net.SplitHostPort(h)
		if err != nil {
			host, port = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"), defaultPort
		}
		if host == "" {
			return m, fmt.Errorf("redisstore: empty host in %q", h)
		}
		m.hosts = append(m.hosts, net.JoinHostPort(host, port))
	}
	if len(m.hosts) == 0 {
		return m, fmt.Errorf("redisstore: URL lists no host")
	}
	u, err := url.Parse("x://h" + tail)
	if err != nil {
		return m, parseError(err)
	}
	m.path, m.query = u.Path, u.Query()
	return m, nil
}

// goRedisURL rebuilds a URL in go-redis's own multi-address form (first host
// in the authority, the others as addr=), so its parsers handle every option.
func (m multiHost) goRedisURL(scheme, path string, q url.Values) string {
	q = cloneValues(q)
	for _, h := range m.hosts[1:] {
		q.Add("addr", h)
	}
	u := url.URL{Scheme: scheme, Host: m.hosts[0], Path: path, RawQuery: q.Encode()}
	return u.String()
}

func parseSentinel(scheme, rest string) (*redis.FailoverOptions, error) {
	m, err := parseMultiHost(rest, defaultSentinelPort)
	if err != nil {
		return nil, err
	}
	segs := strings.FieldsFunc(m.path, func(r rune) bool { return r == '/' })
	if len(segs) == 0 || len(segs) > 2 {
		return nil, fmt.Errorf("redisstore: sentinel URL path must be /mastername[/db], got %q", m.path)
	}
	q := cloneValues(m.query)
	sentUser, sentPass := q.Get("sentinel_username"), q.Get("sentinel_password")
	q.Del("sentinel_username")
	q.Del("sentinel_password")
	q.Set("master_name", segs[0])
	db := ""
	if len(segs) == 2 {
		db = "/" + segs[1]
	}
	o, err := redis.ParseFailoverURL(m.goRedisURL(scheme, db, q))
	if err != nil {
		return nil, parseError(err)
	}
	// The user info authenticates to the master and replicas; sentinels
	// have their own (often no) credentials.
	o.SentinelUsername, o.SentinelPassword = sentUser, sentPass
	if m.user != nil {
		o.Username = m.user.Username()
		o.Password, _ = m.user.Password()
	}
	failFast(q, &o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.MaxRetries)
	smallBuffers(&o.ReadBufferSize, &o.WriteBufferSize, &o.PipelineReadBufferSize, &o.PipelineWriteBufferSize)
	if !q.Has("dialer_retries") {
		o.DialerRetries = 1
	}
	if !q.Has("context_timeout_enabled") {
		o.ContextTimeoutEnabled = true
	}
	return o, nil
}

func parseCluster(scheme, rest string) (*redis.ClusterOptions, error) {
	m, err := parseMultiHost(rest, defaultRedisPort)
	if err != nil {
		return nil, err
	}
	if strings.Trim(m.path, "/") != "" {
		return nil, fmt.Errorf("redisstore: cluster URL takes no path (Cluster has only db 0), got %q", m.path)
	}
	u := m.goRedisURL(scheme, "", m.query)
	if m.user != nil {
		pu, _ := url.Parse(u)
		pu.User = m.user
		u = pu.String()
	}
	o, err := redis.ParseClusterURL(u)
	if err != nil {
		return nil, parseError(err)
	}
	failFast(m.query, &o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.MaxRetries)
	smallBuffers(&o.ReadBufferSize, &o.WriteBufferSize, &o.PipelineReadBufferSize, &o.PipelineWriteBufferSize)
	if !m.query.Has("dialer_retries") {
		o.DialerRetries = 1
	}
	o.ContextTimeoutEnabled = true
	return o, nil
}

// connBuffer sizes the read and write buffers of every Redis connection,
// pipelines included, unless the URL sets pipeline_*_buffer_size. Records,
// manifests and scripts are small; the go-redis defaults (32 KiB, and
// 128 KiB for pipelines, per direction) were the largest share of the
// gateway's heap, and more connections open as more uploads run at once.
// Larger replies (a long manifest) still arrive whole, in more reads.
const connBuffer = 8 << 10

func smallBuffers(sizes ...*int) {
	for _, p := range sizes {
		if *p == 0 {
			*p = connBuffer
		}
	}
}

// failFast applies the short timeouts and disables command retries (a
// retried commit script could run twice) unless the URL chose otherwise.
func failFast(q url.Values, dial, read, write *time.Duration, retries *int) {
	if !q.Has("dial_timeout") {
		*dial = defaultDialTimeout
	}
	if !q.Has("read_timeout") {
		*read = defaultIOTimeout
	}
	if !q.Has("write_timeout") {
		*write = defaultIOTimeout
	}
	if !q.Has("max_retries") {
		*retries = -1
	}
}

func queryOf(rawURL string) url.Values {
	u, err := url.Parse(rawURL)
	if err != nil {
		return url.Values{}
	}
	return u.Query()
}

func cloneValues(v url.Values) url.Values {
	c := make(url.Values, len(v))
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

// redact hides a password so URLs can appear in errors and logs.
func redact(rawURL string) string {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return rawURL
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	at := strings.LastIndex(rest[:end], "@")
	if at < 0 {
		return rawURL
	}
	user, _, hasPass := strings.Cut(rest[:at], ":")
	if !hasPass {
		return rawURL
	}
	return scheme + "://" + user + ":xxxxx" + rest[at:]
}
