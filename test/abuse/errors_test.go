package abuse

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/tusgate/tusgate/test/e2e"
)

// internalText must never reach a client: package names, source files and
// the state store's own wording.
var internalText = []string{"boltstore", "filestore", "redisstore", "s3store", ".go", "load upload"}

func leaksInternals(body string) string {
	for _, s := range internalText {
		if strings.Contains(body, s) {
			return s
		}
	}
	return ""
}

// TestAbuse08ClientFaultsAreNotServerErrors checks that what a client does
// wrong is answered as a client fault: a PATCH body that stalls past
// --idle-timeout gets 408 and keeps its bytes, a POST whose client goes
// away logs no error, and error bodies are short and carry no internals.
func TestAbuse08ClientFaultsAreNotServerErrors(t *testing.T) {
	t.Parallel()
	f := startFile(t, "--idle-timeout", "1s")
	p := f.p

	// A stalled PATCH body.
	u := e2e.Create(t, p.URL, 1000, nil)
	c := dialRaw(t, p.Addr)
	c.write([]byte(request(http.MethodPatch, basePath(t, p)+idOf(u), p.Addr,
		"Content-Type: "+offsetStream, "Upload-Offset: 0", "Content-Length: 1000")))
	c.write(bytes.Repeat([]byte("s"), 100))
	if r := c.response(http.MethodPatch); r.status != http.StatusRequestTimeout {
		t.Errorf("PATCH stalled past --idle-timeout: status %d, want 408: %s", r.status, r.body)
	}
	if off := e2e.Offset(t, u); off != 100 {
		t.Errorf("offset after the stalled PATCH = %d, want the 100 bytes that arrived", off)
	}

	// A POST whose client disconnects mid-body; the request counter tells
	// when the server is done with it.
	postsBefore := sample(t, scrape(t, p), "tusgate_http_requests_total", `method="POST"`)
	c = dialRaw(t, p.Addr)
	c.write([]byte(request(http.MethodPost, basePath(t, p), p.Addr,
		"Upload-Length: 1000", "Content-Type: "+offsetStream, "Content-Length: 1000", "Expect: 100-continue")))
	if line := c.interim(); !strings.HasPrefix(line, "HTTP/1.1 100") {
		t.Fatalf("POST: %q before the body, want 100 Continue", line)
	}
	c.write(bytes.Repeat([]byte("p"), 100))
	_ = c.Close()
	e2e.Eventually(t, deadline, "the server to finish the abandoned POST", func() bool {
		return sample(t, scrape(t, p), "tusgate_http_requests_total", `method="POST"`) > postsBefore
	})
	if errs := errorLines(p.Logs()); len(errs) > 0 {
		t.Errorf("ERROR lines for a stalled PATCH and an abandoned POST (client faults):\n%s", strings.Join(errs, "\n"))
	}
	logged := len(p.Logs())

	// Unknown upload: 404 with a body that says so without internals.
	unknown := p.URL + unknownID()
	for _, tc := range []struct {
		method string
		h      http.Header
		body   []byte
	}{
		{http.MethodHead, nil, nil},
		{http.MethodGet, nil, nil},
		{http.MethodDelete, nil, nil},
		{http.MethodPatch, hdr("Content-Type", offsetStream, "Upload-Offset", "0"), []byte("x")},
	} {
		r := send(t, tc.method, unknown, tc.h, tc.body)
		if r.status != http.StatusNotFound {
			t.Errorf("%s of an unknown upload: status %d, want 404: %s", tc.method, r.status, r.body)
		}
		if s := leaksInternals(r.body); s != "" {
			t.Errorf("%s of an unknown upload: body %q contains %q", tc.method, r.body, s)
		}
	}

	// A bad Upload-Offset: 400 with a short message naming the header.
	u = e2e.Create(t, p.URL, 10, nil)
	for _, off := range []string{"abc", "-1", "1.5", "99999999999999999999"} {
		r := send(t, http.MethodPatch, u, hdr("Content-Type", offsetStream, "Upload-Offset", off), []byte("x"))
		if r.status != http.StatusBadRequest {
			t.Errorf("PATCH with Upload-Offset %q: status %d, want 400: %s", off, r.status, r.body)
		}
		if len(r.body) >= 200 || !strings.Contains(r.body, "Upload-Offset") {
			t.Errorf("PATCH with Upload-Offset %q: body %q, want under 200 bytes naming Upload-Offset", off, r.body)
		}
		if s := leaksInternals(r.body); s != "" {
			t.Errorf("PATCH with Upload-Offset %q: body %q contains %q", off, r.body, s)
		}
	}
	if errs := errorLines(p.Logs()[logged:]); len(errs) > 0 {
		t.Errorf("ERROR lines for requests for unknown uploads and bad offsets:\n%s", strings.Join(errs, "\n"))
	}
}
