package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tusgate/tusgate/backends/filestore"
	"github.com/tusgate/tusgate/hooks"
)

type posted struct {
	mu  sync.Mutex
	got []hooks.Request
}

func (p *posted) Post(_ context.Context, req hooks.Request) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.got = append(p.got, req)
	return nil
}

// post-receive follows commits while a body is stored: the first commit
// reports at once, later ones wait for the progress interval, and the end
// reports what is left. Here the file store commits every 4 bytes and the
// interval is long, so a 12-byte body reports 4 and then 12.
func TestPostReceiveFollowsCommitsAtMostEveryInterval(t *testing.T) {
	st, fs := localStores(t, 0, filestore.Options{SyncBytes: 4, SyncInterval: -1, BufferSize: 4})
	p := &posted{}
	g, err := New(Config{Hooks: Hooks{Poster: p, Enabled: []hooks.Type{hooks.PostReceive}, ProgressInterval: time.Hour}}, st, st, fs)
	if err != nil {
		t.Fatal(err)
	}
	serve := func(method, url string, body string, hdr map[string]string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, url, strings.NewReader(body))
		req.Header.Set("Tus-Resumable", "1.0.0")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		g.ServeHTTP(w, req)
		return w
	}
	res := serve(http.MethodPost, "/files/", "", map[string]string{"Upload-Length": "12"})
	if res.Code != http.StatusCreated {
		t.Fatalf("POST → %d %s", res.Code, res.Body)
	}
	loc := res.Header().Get("Location")
	res = serve(http.MethodPatch, loc[strings.Index(loc, "/files/"):], "0123456789ab",
		map[string]string{"Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"})
	if res.Code != http.StatusNoContent {
		t.Fatalf("PATCH → %d %s", res.Code, res.Body)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var offsets []int64
	for _, r := range p.got {
		offsets = append(offsets, r.Event.Upload.Offset)
	}
	if len(offsets) != 2 || offsets[0] != 4 || offsets[1] != 12 {
		t.Fatalf("post-receive offsets %v, want [4 12]", offsets)
	}
}
