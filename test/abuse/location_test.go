package abuse

import (
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tusgate/tusgate/test/e2e"
)

// TestAbuse09LocationNeedsAValidHost checks that no Location is built from
// a missing or invalid host: a POST without a usable Host is 400 and creates
// nothing, and behind a proxy an invalid X-Forwarded-Host is ignored in
// favour of the request's Host while a valid one is used.
func TestAbuse09LocationNeedsAValidHost(t *testing.T) {
	t.Parallel()
	t.Run("no host", func(t *testing.T) {
		f := startFile(t)
		target := basePath(t, f.p)
		for _, tc := range []struct{ what, req string }{
			{"HTTP/1.0 without Host", strings.Replace(request(http.MethodPost, target, "-", "Upload-Length: 10"), "HTTP/1.1", "HTTP/1.0", 1)},
			{"HTTP/1.1 with an empty Host", request(http.MethodPost, target, "", "Upload-Length: 10")},
		} {
			before := created(t, f.p)
			c := dialRaw(t, f.p.Addr)
			c.write([]byte(tc.req))
			r := c.response(http.MethodPost)
			if r.status != http.StatusBadRequest {
				t.Errorf("POST %s: status %d, Location %q, want 400: %s", tc.what, r.status, r.header.Get("Location"), r.body)
			}
			if n := created(t, f.p); n != before {
				t.Errorf("POST %s: tusgate_uploads_created_total went from %v to %v", tc.what, before, n)
			}
		}
		f.stop(t)
		if recs := f.records(t); len(recs) != 0 {
			t.Errorf("records after POSTs without a host: %v", recs)
		}
	})
	t.Run("--behind-proxy", func(t *testing.T) {
		f := startFile(t, "--behind-proxy")
		for _, tc := range []struct{ forwarded, wantHost string }{
			{":::", f.p.Addr},
			{"example.com:99999", f.p.Addr},
			{"uploads.example.com:8443", "uploads.example.com:8443"},
		} {
			r := send(t, http.MethodPost, f.p.URL, hdr("Upload-Length", "10", "X-Forwarded-Host", tc.forwarded), nil)
			if r.status != http.StatusCreated {
				t.Errorf("POST with X-Forwarded-Host %q: status %d, want 201: %s", tc.forwarded, r.status, r.body)
				continue
			}
			loc := r.header.Get("Location")
			u, err := url.Parse(loc)
			if err != nil || u.Host != tc.wantHost {
				t.Errorf("POST with X-Forwarded-Host %q: Location %q (parse error %v), want host %s", tc.forwarded, loc, err, tc.wantHost)
				continue
			}
			if tc.wantHost == f.p.Addr {
				if s := e2e.Head(t, loc).StatusCode; s != http.StatusOK {
					t.Errorf("HEAD %s: status %d, want 200", loc, s)
				}
			}
		}
	})
}

// TestAbuse10BareBooleanFlags runs the README's example: boolean settings
// given as bare flags start the server and take effect, and =false turns
// one off.
func TestAbuse10BareBooleanFlags(t *testing.T) {
	t.Parallel()
	get := func(p *e2e.Proc, path string) int {
		t.Helper()
		return send(t, http.MethodGet, "http://"+p.Addr+path, nil, nil).status
	}
	store := func() []string {
		dir := t.TempDir()
		return []string{"--store", "file://" + filepath.Join(dir, "data"), "--state", "bolt://" + filepath.Join(dir, "state.db")}
	}

	p := e2e.Start(t, append([]string{"--behind-proxy", "--metrics", "--pprof", "--listen", "127.0.0.1:0"}, store()...)...)
	if s := get(p, "/metrics"); s != http.StatusOK {
		t.Errorf("bare --metrics: GET /metrics status %d, want 200", s)
	}
	if s := get(p, "/debug/pprof/"); s != http.StatusOK {
		t.Errorf("bare --pprof: GET /debug/pprof/ status %d, want 200", s)
	}
	r := send(t, http.MethodPost, p.URL, hdr("Upload-Length", "1", "X-Forwarded-Host", "uploads.example.com"), nil)
	if u, err := url.Parse(r.header.Get("Location")); r.status != http.StatusCreated || err != nil || u.Host != "uploads.example.com" {
		t.Errorf("bare --behind-proxy: POST with X-Forwarded-Host: status %d, Location %q, want 201 on uploads.example.com", r.status, r.header.Get("Location"))
	}

	// A bare flag last on the line, and an explicit false.
	p = e2e.Start(t, append(append([]string{"--listen", "127.0.0.1:0", "--metrics=false"}, store()...), "--pprof")...)
	if s := get(p, "/metrics"); s != http.StatusNotFound {
		t.Errorf("--metrics=false: GET /metrics status %d, want 404", s)
	}
	if s := get(p, "/debug/pprof/"); s != http.StatusOK {
		t.Errorf("bare --pprof as the last flag: GET /debug/pprof/ status %d, want 200", s)
	}
}
