package hooks_test

import (
	"path/filepath"
	"testing"

	"github.com/tusgate/tusgate/test/e2e"
)

func filepathJoin(parts ...string) string { return filepath.Join(parts...) }

// metricValue scrapes p's /metrics and sums the samples of name whose
// labels contain every one of labels.
func metricValue(t *testing.T, p *e2e.Proc, name string, labels ...string) float64 {
	t.Helper()
	return e2e.Scrape(t, e2e.MetricsURL(p)).Sum(name, labels...)
}
