package gateway_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tusgate/tusgate/backends/filestore"
	"github.com/tusgate/tusgate/gateway"
	"github.com/tusgate/tusgate/state/boltstore"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startGateway(t *testing.T, logs *syncBuffer) *httptest.Server {
	t.Helper()
	dir := t.TempDir()
	st, err := boltstore.Open(filepath.Join(dir, "state.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	be, err := filestore.New(filepath.Join(dir, "files"), filestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	gw, err := gateway.New(gateway.Config{Logger: log, Registerer: prometheus.NewRegistry()}, st, st, be)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw)
	t.Cleanup(srv.Close)
	return srv
}

func create(t *testing.T, url, requestID string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/files/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Length", "5")
	req.Header.Set("Upload-Metadata", "filename c2VjcmV0LXBsYW5zLnBkZg==")
	if requestID != "" {
		req.Header.Set("X-Request-ID", requestID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("POST: %d", res.StatusCode)
	}
	return res
}

func TestRequestIDIsKeptReturnedAndLogged(t *testing.T) {
	logs := &syncBuffer{}
	srv := startGateway(t, logs)
	res := create(t, srv.URL, "client-id-42")
	if got := res.Header.Get("X-Request-ID"); got != "client-id-42" {
		t.Fatalf("X-Request-ID %q, want the client's", got)
	}
	id := res.Header.Get("Location")[strings.LastIndex(res.Header.Get("Location"), "/")+1:]
	var line string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, `"msg":"upload created"`) {
			line = l
		}
	}
	if !strings.Contains(line, `"request_id":"client-id-42"`) || !strings.Contains(line, `"upload_id":"`+id+`"`) {
		t.Fatalf("the creation log line lacks the request or upload ID: %s", line)
	}
	if strings.Contains(logs.String(), "c2VjcmV0LXBsYW5zLnBkZg") {
		t.Fatal("a metadata value reached the logs")
	}
}

func TestBadRequestIDIsReplaced(t *testing.T) {
	srv := startGateway(t, &syncBuffer{})
	for _, bad := range []string{"", strings.Repeat("a", 200), "x\"y", "a b", "ümlaut"} {
		got := create(t, srv.URL, bad).Header.Get("X-Request-ID")
		if got == "" || got == bad || len(got) > 128 {
			t.Errorf("X-Request-ID %q answered with %q, want a generated one", bad, got)
		}
	}
}
