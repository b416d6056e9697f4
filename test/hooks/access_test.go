package hooks_test

import (
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tusgate/tusgate/hooks"
	"github.com/tusgate/tusgate/test/e2e"
	"github.com/tusgate/tusgate/test/testenv"
)

// The pre-access hook decides every request to an existing upload; here
// the receiver lets only the client that created an upload touch it.
func TestPreAccessDeniesForeignClientsAcrossReplicas(t *testing.T) {
	var mu sync.Mutex
	owner := map[string]string{}
	rc := newReceiver(t, func(req hooks.Request, _ int) (int, hooks.Response) {
		mu.Lock()
		defer mu.Unlock()
		auth := req.Event.HTTPRequest.Header.Get("Authorization")
		switch req.Type {
		case hooks.PreCreate:
			owner[req.Event.Upload.ID] = auth
		case hooks.PreAccess:
			if owner[req.Event.Upload.ID] != auth {
				return http.StatusOK, hooks.Response{RejectUpload: true, HTTPResponse: hooks.HTTPResponse{Body: "not yours"}}
			}
		}
		return http.StatusOK, hooks.Response{}
	})
	rs := testenv.StartRedis(t)
	files := t.TempDir()
	args := []string{"--store", "file://" + filepath.Join(files, "data"), "--state", rs.URL,
		"--hooks-http", rc.url, "--hooks-enabled-events", "pre-create,pre-access",
		// The receiver decides by the Authorization header, so it is let into events.
		"--hooks-hidden-headers", "Cookie"}
	a, b := e2e.Start(t, args...), e2e.Start(t, args...)
	alice := http.Header{"Authorization": {"Bearer alice"}, "Tus-Resumable": {"1.0.0"}}
	mallory := http.Header{"Authorization": {"Bearer mallory"}, "Tus-Resumable": {"1.0.0"}}

	url := e2e.Create(t, a.URL, 4, http.Header{"Authorization": {"Bearer alice"}})
	partial := e2e.Create(t, a.URL, 2, http.Header{"Authorization": {"Bearer alice"}, "Upload-Concat": {"partial"}})
	onB := strings.Replace(url, a.Addr, b.Addr, 1)
	patchHdr := func(h http.Header) http.Header {
		c := h.Clone()
		c.Set("Upload-Offset", "0")
		c.Set("Content-Type", "application/offset+octet-stream")
		return c
	}
	for _, target := range []string{url, onB} {
		for _, tc := range []struct {
			method string
			hdr    http.Header
		}{
			{http.MethodHead, mallory}, {http.MethodPatch, patchHdr(mallory)}, {http.MethodGet, mallory}, {http.MethodDelete, mallory},
		} {
			var body *strings.Reader
			if tc.method == http.MethodPatch {
				body = strings.NewReader("evil")
			} else {
				body = strings.NewReader("")
			}
			res, text := do(t, tc.method, target, tc.hdr, body)
			if res.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s by another client → %d %q, want 403", tc.method, target, res.StatusCode, text)
			}
		}
	}
	// A final upload naming someone else's partial is refused too.
	fin := mallory.Clone()
	fin.Set("Upload-Concat", "final;/files/"+idOf(partial))
	if res, text := do(t, http.MethodPost, b.URL, fin, nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("concatenation of another client's partial → %d %q, want 403", res.StatusCode, text)
	}
	// Nothing of the denied requests touched the upload; the owner goes on.
	if res, _ := do(t, http.MethodHead, onB, alice, nil); res.StatusCode != http.StatusOK || res.Header.Get("Upload-Offset") != "0" {
		t.Fatalf("owner HEAD → %d offset %q", res.StatusCode, res.Header.Get("Upload-Offset"))
	}
	if res, text := do(t, http.MethodPatch, onB, patchHdr(alice), strings.NewReader("data")); res.StatusCode != http.StatusNoContent {
		t.Fatalf("owner PATCH → %d %q", res.StatusCode, text)
	}
	if res, text := do(t, http.MethodGet, url, alice, nil); res.StatusCode != http.StatusOK || text != "data" {
		t.Fatalf("owner GET → %d %q", res.StatusCode, text)
	}
	if res, _ := do(t, http.MethodDelete, url, alice, nil); res.StatusCode != http.StatusNoContent {
		t.Fatalf("owner DELETE → %d", res.StatusCode)
	}
}
