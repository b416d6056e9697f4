package e2e

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// MetricsURL is the /metrics page on p's main listener.
func MetricsURL(p *Proc) string { return "http://" + p.Addr + "/metrics" }

// ScrapeText GETs a /metrics page and returns its text; anything but 200
// fails the test.
func ScrapeText(t testing.TB, metricsURL string) string {
	t.Helper()
	res := Do(t, Req(t, http.MethodGet, metricsURL, nil))
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("scrape %s: %v", metricsURL, err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s: status %d", metricsURL, res.StatusCode)
	}
	return string(body)
}

// Metrics is one scrape: Values maps "name{k="v",...}" (labels sorted; a
// histogram gives its name_count) to the value, Families holds the name of
// every metric family exported.
type Metrics struct {
	Values   map[string]float64
	Families map[string]bool
}

// Scrape GETs and parses a /metrics page.
func Scrape(t testing.TB, metricsURL string) Metrics {
	t.Helper()
	return ParseMetrics(t, ScrapeText(t, metricsURL))
}

// ParseMetrics parses the text of a /metrics page.
func ParseMetrics(t testing.TB, text string) Metrics {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("parse metrics: %v", err)
	}
	m := Metrics{Values: map[string]float64{}, Families: map[string]bool{}}
	for name, f := range fams {
		m.Families[name] = true
		for _, s := range f.GetMetric() {
			key := name + labelString(s.GetLabel())
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				m.Values[key] = s.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				m.Values[key] = s.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				m.Values[name+"_count"+labelString(s.GetLabel())] = float64(s.GetHistogram().GetSampleCount())
			case dto.MetricType_UNTYPED:
				m.Values[key] = s.GetUntyped().GetValue()
			}
		}
	}
	return m
}

func labelString(ls []*dto.LabelPair) string {
	if len(ls) == 0 {
		return ""
	}
	parts := make([]string, 0, len(ls))
	for _, l := range ls {
		parts = append(parts, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
	}
	sort.Strings(parts)
	return "{" + strings.Join(parts, ",") + "}"
}

// Get is the value of key, 0 when absent (a labelled series not yet seen).
func (m Metrics) Get(key string) float64 { return m.Values[key] }

// Sum adds the series of name whose labels contain every one of match
// (each `label="value"`); 0 when there are none.
func (m Metrics) Sum(name string, match ...string) float64 {
	var sum float64
	for key, v := range m.Values {
		labels, ok := strings.CutPrefix(key, name)
		if !ok || (labels != "" && labels[0] != '{') {
			continue
		}
		all := true
		for _, l := range match {
			all = all && strings.Contains(labels, l)
		}
		if all {
			sum += v
		}
	}
	return sum
}
