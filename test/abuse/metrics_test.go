package abuse

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/tusgate/tusgate/test/e2e"
)

// notToken matches what may not be in the invented methods.
var notToken = regexp.MustCompile(`[^A-Z0-9]`)

// TestAbuse01MetricLabelsAreClosed sends 300 requests with invented
// methods (one per connection, each method distinct) and 200 POSTs whose
// X-HTTP-Method-Override is a distinct random 20 KB value. The overrides are
// refused with 400; afterwards every tusgate_http_requests_total series has a
// method from the closed set, /metrics stays small and names none of the
// invented methods, and the resident memory grew by less than 64 MiB. A
// real override (PATCH) still works.
func TestAbuse01MetricLabelsAreClosed(t *testing.T) {
	t.Parallel()
	f := startFile(t)
	p := f.p
	target := basePath(t, p)
	rssBefore := vmRSS(t, p.PID())

	var invented []string
	for i := range 300 {
		m := fmt.Sprintf("FOO%d%s", i, notToken.ReplaceAllString(strings.ToUpper(randomText(8)), "Q"))
		invented = append(invented, m)
		c := dialRaw(t, p.Addr)
		c.write([]byte(request(m, target, p.Addr, "Connection: close")))
		c.response(m)
		_ = c.Close()
	}
	for i := range 200 {
		v := randomText(20 * KiB)
		if i < 20 {
			invented = append(invented, v[:64])
		}
		r := send(t, http.MethodPost, p.URL, hdr("X-HTTP-Method-Override", v, "Upload-Length", "10"), nil)
		if r.status != http.StatusBadRequest {
			t.Fatalf("POST %d with a 20 KB X-HTTP-Method-Override: status %d, want 400: %.200s", i, r.status, r.body)
		}
	}

	body := scrape(t, p)
	rssAfter := vmRSS(t, p.PID())
	t.Logf("VmRSS %d MiB before the burst, %d MiB after; /metrics is %d bytes", rssBefore/MiB, rssAfter/MiB, len(body))
	if len(body) >= MiB {
		t.Errorf("/metrics is %d bytes after the burst, want < 1 MiB", len(body))
	}
	allowed := map[string]bool{"GET": true, "HEAD": true, "POST": true, "PATCH": true, "DELETE": true, "OPTIONS": true, "OTHER": true}
	methodLabel := regexp.MustCompile(`[{,]method="([^"]*)"`)
	series := 0
	for _, line := range strings.Split(body, "\n") {
		if !strings.HasPrefix(line, "tusgate_http_requests_total{") {
			continue
		}
		series++
		m := methodLabel.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("series without a method label: %.200s", line)
			continue
		}
		if !allowed[m[1]] {
			t.Errorf("series with method label %.80q, want one of GET, HEAD, POST, PATCH, DELETE, OPTIONS, OTHER", m[1])
		}
	}
	if series == 0 {
		t.Fatalf("no tusgate_http_requests_total series in /metrics")
	}
	if got := sample(t, body, "tusgate_http_requests_total", `method="OTHER"`); got < 300 {
		t.Errorf("tusgate_http_requests_total{method=\"OTHER\"} = %v, want >= 300 (the invented methods)", got)
	}
	for _, m := range invented {
		if strings.Contains(body, m) {
			t.Errorf("/metrics contains the client's string %.40q", m)
			break
		}
	}
	if grown := rssAfter - rssBefore; grown >= 64*MiB {
		t.Errorf("VmRSS grew by %d MiB over the burst, want < 64 MiB", grown/MiB)
	}

	// The override itself still works.
	u := e2e.Create(t, p.URL, 3, nil)
	r := send(t, http.MethodPost, u, hdr("X-HTTP-Method-Override", "PATCH", "Content-Type", offsetStream, "Upload-Offset", "0"), []byte("abc"))
	if r.status != http.StatusNoContent || r.header.Get("Upload-Offset") != "3" {
		t.Errorf("POST with X-HTTP-Method-Override: PATCH: status %d, Upload-Offset %q, want 204 and 3: %s", r.status, r.header.Get("Upload-Offset"), r.body)
	}
}
