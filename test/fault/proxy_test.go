package fault

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/Shopify/toxiproxy/v2/collectors"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// toxics are the connection faults, on the client-to-server stream where
// PATCH bodies flow: cut (reset after a moment, or after some bytes),
// throttled to a trickle, and stalled (nothing passes, then the connection
// closes).
var toxics = []struct{ name, json string }{
	{"cut: TCP reset after 300 ms", `{"type":"reset_peer","stream":"upstream","attributes":{"timeout":300}}`},
	{"cut: closed after 2 MiB", `{"type":"limit_data","stream":"upstream","attributes":{"bytes":2097152}}`},
	{"throttled to 512 KiB/s", `{"type":"bandwidth","stream":"upstream","attributes":{"rate":512}}`},
	{"stalled 3 s, then closed", `{"type":"timeout","stream":"upstream","attributes":{"timeout":3000}}`},
}

// proxies puts a toxiproxy (the library, in this process) on loopback in
// front of every replica and returns the upload base URLs through them.
func proxies(t *testing.T, e *env) ([]*toxiproxy.Proxy, []string) {
	t.Helper()
	// The toxics log through zerolog's global logger, at trace level, into
	// the test's output; only warnings are worth reading there.
	zerolog.SetGlobalLevel(zerolog.WarnLevel)
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	srv.Metrics.ProxyMetrics = collectors.NewProxyMetricCollectors()
	var ps []*toxiproxy.Proxy
	var bases []string
	for i, base := range e.bases() {
		u, err := url.Parse(base)
		if err != nil {
			t.Fatal(err)
		}
		p := toxiproxy.NewProxy(srv, fmt.Sprintf("replica%d", i), "127.0.0.1:0", u.Host)
		if err := p.Start(); err != nil {
			t.Fatalf("start proxy to %s: %v", u.Host, err)
		}
		t.Cleanup(p.Stop)
		ps = append(ps, p)
		u.Host = p.Listen
		bases = append(bases, u.String())
	}
	return ps, bases
}

// TestConnectionFaults uploads through fault-injecting TCP proxies: each
// kind of connection fault is switched on for two seconds on every proxy,
// then off, in turn, while the uploads go on.
func TestConnectionFaults(t *testing.T) {
	e := newEnv(t, 3, false)
	ps, bases := proxies(t, e)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c := newGoClient()
	b := newBatch()
	for i := range 6 {
		b.start(ctx, e, c, "", source(12*MiB+i*MiB+i, uint64(200+i)), rotate(bases, i))
	}
	for _, tx := range toxics {
		time.Sleep(300*time.Millisecond + time.Duration(rand.Int64N(int64(500*time.Millisecond))))
		for _, p := range ps {
			if _, err := p.Toxics.AddToxicJson(strings.NewReader(`{"name":"fault",` + tx.json[1:])); err != nil {
				t.Fatalf("add toxic %s: %v", tx.name, err)
			}
		}
		time.Sleep(2 * time.Second)
		for _, p := range ps {
			if err := p.Toxics.RemoveToxic(ctx, "fault"); err != nil {
				t.Fatalf("remove toxic %s: %v", tx.name, err)
			}
		}
	}
	names := make([]string, len(toxics))
	for i, tx := range toxics {
		names[i] = tx.name
	}
	check(t, e, "client connection "+strings.Join(names, ", "), b.wait(), len(toxics), &c.recorder)
}
