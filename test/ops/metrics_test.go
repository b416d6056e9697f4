package ops

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/tusgate/tusgate/test/e2e"
)

// TestMetricsMoveWithUploadsAndTakeovers scrapes two replicas before and
// after an upload that is created on A, stalls mid-PATCH on A, is taken
// over by B and finished there. B serves metrics on its own listener.
func TestMetricsMoveWithUploadsAndTakeovers(t *testing.T) {
	ps := replicas(t, 2, nil, nil, []string{"--metrics-listen", "127.0.0.1:0"})
	a, b := ps[0], ps[1]
	aMetrics, bMetrics := origin(a)+"/metrics", metricsURL(t, b)
	if res, err := http.Get(origin(b) + "/metrics"); err != nil {
		t.Fatal(err)
	} else if res.Body.Close(); res.StatusCode == http.StatusOK {
		t.Fatalf("with --metrics-listen, /metrics must not be on the upload listener (status %d)", res.StatusCode)
	}
	beforeA, beforeB := e2e.Scrape(t, aMetrics), e2e.Scrape(t, bMetrics)

	const size = 4 * MiB
	body := data(size)
	u := e2e.Create(t, a.URL, size, nil)
	sp := e2e.StartStream(t, u, 0, body[:MiB])
	awaitBodyBytes(t, aMetrics, beforeA.Get("tusgate_request_body_bytes_total")+MiB)
	if sp.Ended() {
		t.Fatal("the stalled PATCH ended before the takeover")
	}
	// HEAD on B asks A to store what it has and let go.
	head := e2e.Head(t, at(b, u))
	head.Body.Close()
	if got := offsetOf(t, head.Header); got != MiB {
		t.Fatalf("HEAD on B after takeover: offset %d, want %d", got, MiB)
	}
	if r := sp.Wait(t, wait); r.Err != nil || r.Status != http.StatusLocked {
		t.Fatalf("the taken-over PATCH: status %d err %v, want 423", r.Status, r.Err)
	}
	if got := e2e.Patch(t, at(b, u), MiB, body[MiB:]); got != size {
		t.Fatalf("PATCH on B: offset %d, want %d", got, size)
	}
	afterA, afterB := e2e.Scrape(t, aMetrics), e2e.Scrape(t, bMetrics)

	type move struct {
		before, after e2e.Metrics
		key           string
		min           float64
	}
	for _, m := range []move{
		{before: beforeA, after: afterA, key: "tusgate_uploads_created_total", min: 1},
		{before: beforeA, after: afterA, key: `tusgate_http_requests_total{code="201",method="POST",route="/files/"}`, min: 1},
		{before: beforeA, after: afterA, key: `tusgate_http_requests_total{code="423",method="PATCH",route="/files/:id"}`, min: 1},
		{before: beforeA, after: afterA, key: "tusgate_request_body_bytes_total", min: MiB},
		{before: beforeA, after: afterA, key: "tusgate_received_bytes_total", min: MiB},
		{before: beforeA, after: afterA, key: "tusgate_lock_release_requests_received_total", min: 1},
		{before: beforeA, after: afterA, key: "tusgate_lock_release_requests_answered_total", min: 1},
		{before: beforeA, after: afterA, key: `tusgate_backend_operation_duration_seconds_count{backend="file",operation="create"}`, min: 1},
		{before: beforeA, after: afterA, key: `tusgate_state_operation_duration_seconds_count{operation="create",store="redis"}`, min: 1},
		{before: beforeB, after: afterB, key: "tusgate_uploads_finished_total", min: 1},
		{before: beforeB, after: afterB, key: `tusgate_http_requests_total{code="204",method="PATCH",route="/files/:id"}`, min: 1},
		{before: beforeB, after: afterB, key: `tusgate_http_requests_total{code="200",method="HEAD",route="/files/:id"}`, min: 1},
		{before: beforeB, after: afterB, key: "tusgate_received_bytes_total", min: size - MiB},
		{before: beforeB, after: afterB, key: `tusgate_lock_wait_seconds_count{result="acquired"}`, min: 2},
		// B's HEAD asked A to let go (sent here, received and answered on A).
		{before: beforeB, after: afterB, key: "tusgate_lock_release_requests_sent_total", min: 1},
		{before: beforeB, after: afterB, key: `tusgate_lock_takeovers_total{how="released"}`, min: 1},
		{before: beforeB, after: afterB, key: `tusgate_backend_operation_duration_seconds_count{backend="file",operation="finish"}`, min: 1},
		{before: beforeB, after: afterB, key: `tusgate_state_operation_duration_seconds_count{operation="commit",store="redis"}`, min: 1},
	} {
		if d := m.after.Get(m.key) - m.before.Get(m.key); d < m.min {
			t.Errorf("%s moved by %v, want at least %v", m.key, d, m.min)
		}
	}
	for _, s := range []e2e.Metrics{afterA, afterB} {
		if v := s.Get("tusgate_active_uploads"); v != 0 {
			t.Errorf("tusgate_active_uploads is %v with no request in flight, want 0", v)
		}
	}
	// Unmatched paths share one label value, whatever the client sent.
	res, err := http.Get(origin(a) + "/no/such/path/" + strings.Repeat("x", 40))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if e2e.Scrape(t, aMetrics).Get(`tusgate_http_requests_total{code="404",method="GET",route="other"}`) < 1 {
		t.Error("a request to an unknown path is not counted under route=\"other\"")
	}
}

// TestDashboardReferencesOnlyExportedMetrics fails when the Grafana
// dashboard under deploy/ names a metric the binary does not export.
func TestDashboardReferencesOnlyExportedMetrics(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/grafana/tusgate.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Query any `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&dash); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	var exprs []string
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	for _, v := range dash.Templating.List {
		if q, ok := v.Query.(string); ok {
			exprs = append(exprs, q)
		}
	}

	// Traffic first, so that labelled series exist in the scrape.
	p := replicas(t, 1, nil)[0]
	u := e2e.Create(t, p.URL, 3, nil)
	e2e.Patch(t, u, 0, []byte("abc"))
	s := e2e.Scrape(t, origin(p)+"/metrics")

	name := regexp.MustCompile(`\b(?:tusgate|go|process)_[a-z0-9_]+\b`)
	seen := map[string]bool{}
	for _, e := range exprs {
		for _, n := range name.FindAllString(e, -1) {
			seen[n] = true
		}
	}
	if len(seen) < 20 {
		t.Fatalf("the dashboard names only %d metrics; the parser is probably wrong", len(seen))
	}
	var missing []string
	for n := range seen {
		base := n
		for _, suf := range []string{"_bucket", "_sum", "_count"} {
			if b, ok := strings.CutSuffix(n, suf); ok && s.Families[b] {
				base = b
			}
		}
		if !s.Families[base] {
			missing = append(missing, n)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("the dashboard uses metrics the binary does not export: %v", missing)
	}
}
