package redisstore

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseStandaloneAppliesFailFastDefaults(t *testing.T) {
	o, err := parseStandalone("redis://u:p@10.0.0.1:6380/3")
	if err != nil {
		t.Fatal(err)
	}
	if o.Addr != "10.0.0.1:6380" || o.DB != 3 || o.Username != "u" || o.Password != "p" || o.TLSConfig != nil {
		t.Fatalf("options = addr %s db %d user %s pass %s tls %v", o.Addr, o.DB, o.Username, o.Password, o.TLSConfig != nil)
	}
	if o.DialTimeout != defaultDialTimeout || o.ReadTimeout != defaultIOTimeout || o.WriteTimeout != defaultIOTimeout ||
		o.MaxRetries != -1 || o.DialerRetries != 1 || !o.ContextTimeoutEnabled {
		t.Fatalf("fail-fast defaults not applied: %+v", o)
	}
	o, err = parseStandalone("rediss://h?dial_timeout=7s&max_retries=2")
	if err != nil {
		t.Fatal(err)
	}
	if o.Addr != "h:6379" || o.TLSConfig == nil || o.DialTimeout != 7*time.Second || o.MaxRetries != 2 || o.ReadTimeout != defaultIOTimeout {
		t.Fatalf("URL options not kept: addr %s tls %v dial %v retries %d read %v", o.Addr, o.TLSConfig != nil, o.DialTimeout, o.MaxRetries, o.ReadTimeout)
	}
}

func TestParseSentinel(t *testing.T) {
	o, err := parseSentinel("redis", "u:p%40ss@s1,s2:26380,[::1]:5000/mymaster/2?sentinel_password=sp&read_timeout=1s")
	if err != nil {
		t.Fatal(err)
	}
	wantAddrs := []string{"s1:26379", "s2:26380", "[::1]:5000"}
	if !slices.Equal(o.SentinelAddrs, wantAddrs) || o.MasterName != "mymaster" || o.DB != 2 {
		t.Fatalf("sentinels %v master %q db %d", o.SentinelAddrs, o.MasterName, o.DB)
	}
	if o.Username != "u" || o.Password != "p@ss" || o.SentinelPassword != "sp" || o.SentinelUsername != "" {
		t.Fatalf("credentials: user %q pass %q sentinel %q/%q", o.Username, o.Password, o.SentinelUsername, o.SentinelPassword)
	}
	if o.ReadTimeout != time.Second || o.DialTimeout != defaultDialTimeout || o.MaxRetries != -1 || !o.ContextTimeoutEnabled {
		t.Fatalf("timeouts: read %v dial %v retries %d", o.ReadTimeout, o.DialTimeout, o.MaxRetries)
	}
	if o, err := parseSentinel("rediss", "s1/m"); err != nil || o.TLSConfig == nil || o.DB != 0 {
		t.Fatalf("rediss+sentinel without db: %v", err)
	}
	for _, bad := range []string{"s1", "s1/", "s1/m/1/2", "/m", "s1/m?bogus=1"} {
		if _, err := parseSentinel("redis", bad); err == nil {
			t.Errorf("sentinel URL %q accepted", bad)
		}
	}
}

func TestParseCluster(t *testing.T) {
	o, err := parseCluster("redis", "u:p@n1:7000,n2:7001,n3?pool_size=5")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.Addrs, []string{"n1:7000", "n2:7001", "n3:6379"}) || o.Username != "u" || o.Password != "p" || o.PoolSize != 5 {
		t.Fatalf("addrs %v user %q pass %q pool %d", o.Addrs, o.Username, o.Password, o.PoolSize)
	}
	if o.MaxRetries != -1 || o.ReadTimeout != defaultIOTimeout || !o.ContextTimeoutEnabled || o.TLSConfig != nil {
		t.Fatalf("fail-fast defaults not applied: %+v", o)
	}
	if o, err := parseCluster("rediss", "n1"); err != nil || o.TLSConfig == nil {
		t.Fatalf("rediss+cluster: %v", err)
	}
	if _, err := parseCluster("redis", "n1/0"); err == nil {
		t.Error("cluster URL with a db accepted")
	}
}

func TestNewClientRejectsAndRedacts(t *testing.T) {
	for _, bad := range []string{"http://h", "h:6379", "redis://u:secret@h/x/y", "redis://u:secret@h:bad"} {
		_, err := newClient(bad)
		if err == nil {
			t.Errorf("URL %q accepted", bad)
			continue
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("error for %q leaks the password: %v", bad, err)
		}
	}
	for _, ok := range []string{"redis://127.0.0.1:1/0", "unix:///tmp/r.sock?db=2", "redis+sentinel://a,b/m", "redis+cluster://a,b"} {
		c, err := newClient(ok)
		if err != nil {
			t.Errorf("URL %q: %v", ok, err)
			continue
		}
		_ = c.Close()
	}
}

func TestChannelNames(t *testing.T) {
	s := &Store{opts: Options{Prefix: "a*b"}}
	k := s.keysFor("id1")
	if k.record != "a*b:{id1}:u" || k.channel != "a*b:{id1}:c" {
		t.Fatalf("keys %+v", k)
	}
	if p := s.channelPattern(); p != `a\*b:{*}:c` {
		t.Fatalf("pattern %q", p)
	}
	if id, ok := s.idFromChannel(k.channel); !ok || id != "id1" {
		t.Fatalf("idFromChannel = %q, %v", id, ok)
	}
	if _, err := (Options{Prefix: "x{y}"}).withDefaults(); err == nil {
		t.Fatal("prefix with braces accepted")
	}
}

// Every URL form gets connBuffer-sized connection buffers, pipelines too,
// unless the URL sets the pipeline ones.
func TestParseSetsSmallConnectionBuffers(t *testing.T) {
	sizes := func(r, w, pr, pw int) []int { return []int{r, w, pr, pw} }
	want := []int{connBuffer, connBuffer, connBuffer, connBuffer}
	o, err := parseStandalone("redis://h/0")
	if err != nil {
		t.Fatal(err)
	}
	if got := sizes(o.ReadBufferSize, o.WriteBufferSize, o.PipelineReadBufferSize, o.PipelineWriteBufferSize); !slices.Equal(got, want) {
		t.Errorf("standalone buffers %v, want %v", got, want)
	}
	f, err := parseSentinel("redis", "s1/m")
	if err != nil {
		t.Fatal(err)
	}
	if got := sizes(f.ReadBufferSize, f.WriteBufferSize, f.PipelineReadBufferSize, f.PipelineWriteBufferSize); !slices.Equal(got, want) {
		t.Errorf("sentinel buffers %v, want %v", got, want)
	}
	c, err := parseCluster("redis", "n1,n2")
	if err != nil {
		t.Fatal(err)
	}
	if got := sizes(c.ReadBufferSize, c.WriteBufferSize, c.PipelineReadBufferSize, c.PipelineWriteBufferSize); !slices.Equal(got, want) {
		t.Errorf("cluster buffers %v, want %v", got, want)
	}
	o, err = parseStandalone("redis://h/0?pipeline_read_buffer_size=65536")
	if err != nil {
		t.Fatal(err)
	}
	if o.PipelineReadBufferSize != 65536 || o.ReadBufferSize != connBuffer {
		t.Errorf("URL pipeline_read_buffer_size=65536: pipeline read %d, read %d", o.PipelineReadBufferSize, o.ReadBufferSize)
	}
}
