package hooks_test

import (
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tusgate/tusgate/test/e2e"
)

func filepathJoin(parts ...string) string { return filepath.Join(parts...) }

// metricValue scrapes p's /metrics and sums the samples of name whose
// labels contain every one of labels.
func metricValue(t *testing.T, p *e2e.Proc, name string, labels ...string) float64 {
	t.Helper()
	res, body := do(t, http.MethodGet, "http://"+p.Addr+"/metrics", nil, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics → %d", res.StatusCode)
	}
	var sum float64
	for _, line := range strings.Split(body, "\n") {
		rest, ok := strings.CutPrefix(line, name+"{")
		if !ok {
			continue
		}
		all := true
		for _, l := range labels {
			all = all && strings.Contains(rest, l)
		}
		if f := strings.Fields(rest[strings.LastIndexByte(rest, '}')+1:]); all && len(f) == 1 {
			v, _ := strconv.ParseFloat(f[0], 64)
			sum += v
		}
	}
	return sum
}
