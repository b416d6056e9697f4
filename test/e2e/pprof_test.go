package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestPprofOnlyWhenAsked: Go's profiles are served at /debug/pprof/ with
// --pprof=true, and the path is unknown without it (the default).
func TestPprofOnlyWhenAsked(t *testing.T) {
	get := func(p *Proc, path string) (int, string) {
		t.Helper()
		res, err := http.Get("http://" + p.Addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	off := Start(t, fileArgs(t.TempDir())...)
	if code, _ := get(off, "/debug/pprof/"); code != http.StatusNotFound {
		t.Errorf("GET /debug/pprof/ by default: %d, want 404", code)
	}
	on := Start(t, append(fileArgs(t.TempDir()), "--pprof=true")...)
	if code, body := get(on, "/debug/pprof/"); code != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Errorf("GET /debug/pprof/ with --pprof=true: %d, want 200 with the profile index", code)
	}
	if code, body := get(on, "/debug/pprof/goroutine?debug=1"); code != http.StatusOK ||
		!strings.Contains(body, "goroutine profile:") {
		t.Errorf("GET /debug/pprof/goroutine: %d, want 200 with a goroutine profile", code)
	}
}
