package gateway

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/backends/filestore"
	"github.com/tusgate/tusgate/state/boltstore"
)

// limitedBackend is the file backend reporting narrower capabilities.
type limitedBackend struct {
	*filestore.Store
	caps backends.Capabilities
}

func (b limitedBackend) Capabilities() backends.Capabilities { return b.caps }

func newLimited(t *testing.T, cfg Config, caps backends.Capabilities) (*Gateway, error) {
	t.Helper()
	st, fs := localStores(t, 3*time.Second, filestore.Options{})
	return New(cfg, st, st, limitedBackend{Store: fs, caps: caps})
}

// localStores opens state (bbolt, with leases of leaseTTL) and bytes (files
// with opts) in a temporary directory for a gateway under test, closed when
// the test ends.
func localStores(t *testing.T, leaseTTL time.Duration, opts filestore.Options) (*boltstore.Store, *filestore.Store) {
	t.Helper()
	dir := t.TempDir()
	st, err := boltstore.Open(filepath.Join(dir, "state.db"), boltstore.Options{LeaseTTL: leaseTTL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	fs, err := filestore.New(filepath.Join(dir, "data"), opts)
	if err != nil {
		t.Fatal(err)
	}
	return st, fs
}

// The gateway advertises and accepts only what the backend reports: the
// smaller maximum size, no deferred length, no concatenation.
func TestGatewayFollowsBackendCapabilities(t *testing.T) {
	g, err := newLimited(t, Config{MaxSize: 1 << 30}, backends.Capabilities{MaxObjectSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodOptions, "/files/", nil)
	req.Header.Set("Tus-Resumable", "1.0.0")
	w := httptest.NewRecorder()
	g.ServeHTTP(w, req)
	ext := w.Header().Get("Tus-Extension")
	if got := w.Header().Get("Tus-Max-Size"); got != "1048576" {
		t.Errorf("Tus-Max-Size %q, want the backend's 1048576", got)
	}
	if strings.Contains(ext, "creation-defer-length") || strings.Contains(ext, "concatenation") {
		t.Errorf("Tus-Extension %q offers what the backend refuses", ext)
	}
	for name, hdr := range map[string]http.Header{
		"deferred":  {"Upload-Defer-Length": {"1"}},
		"too large": {"Upload-Length": {"1048577"}},
		"concat":    {"Upload-Length": {"1"}, "Upload-Concat": {"partial"}},
	} {
		req := httptest.NewRequest(http.MethodPost, "/files/", nil)
		req.Header = hdr
		req.Header.Set("Tus-Resumable", "1.0.0")
		w := httptest.NewRecorder()
		g.ServeHTTP(w, req)
		if w.Code < 400 || w.Code >= 500 {
			t.Errorf("%s POST: status %d, want a 4xx", name, w.Code)
		}
	}
}

// A store that drops unfinished parts after some time refuses a longer (or
// no) expiration at start-up.
func TestGatewayRefusesExpirationBeyondTheStore(t *testing.T) {
	caps := backends.Capabilities{DeferredLength: true, MaxUploadAge: 7 * 24 * time.Hour}
	for _, exp := range []time.Duration{0, 8 * 24 * time.Hour} {
		if _, err := newLimited(t, Config{Expiration: exp}, caps); err == nil || !strings.Contains(err.Error(), "expiration") {
			t.Errorf("expiration %v: %v, want a refusal", exp, err)
		}
	}
	if _, err := newLimited(t, Config{Expiration: 24 * time.Hour}, caps); err != nil {
		t.Errorf("expiration 24h: %v", err)
	}
}
