package protocol

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tusgate/tusgate/state"
)

const (
	tusVersion  = "1.0.0"
	offsetOctet = "application/offset+octet-stream"
)

// resp is a response whose body has been read.
type resp struct {
	method string
	url    string
	status int
	header http.Header
	body   []byte
}

func (r *resp) get(name string) string { return r.header.Get(name) }

func (r *resp) has(name string) bool {
	_, ok := r.header[http.CanonicalHeaderKey(name)]
	return ok
}

// tus returns request headers carrying Tus-Resumable: 1.0.0 and the given
// name/value pairs.
func tus(kv ...string) http.Header {
	h := hdr(kv...)
	if !h2has(h, "Tus-Resumable") {
		h.Set("Tus-Resumable", tusVersion)
	}
	return h
}

// hdr returns request headers with exactly the given name/value pairs.
func hdr(kv ...string) http.Header {
	if len(kv)%2 != 0 {
		panic("protocol: odd number of header arguments")
	}
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func h2has(h http.Header, name string) bool {
	_, ok := h[http.CanonicalHeaderKey(name)]
	return ok
}

// url turns a path into an absolute URL of the server; absolute URLs pass.
func (sv *server) url(target string) string {
	if strings.HasPrefix(target, "/") {
		return sv.srv.URL + target
	}
	return target
}

// do sends a request with a fixed body (nil: none) and reads the response.
func (sv *server) do(t testing.TB, method, target string, h http.Header, body []byte) *resp {
	t.Helper()
	return sv.send(t, sv.request(t, method, target, h, body))
}

// send runs req and checks what every response must satisfy: Tus-Resumable
// on every answer (H-1, E5) and no body on HEAD (HD-9).
func (sv *server) send(t testing.TB, req *http.Request) *resp {
	t.Helper()
	r, err := sv.exchange(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	checkCommon(t, r)
	return r
}

// exchange runs req and reads the whole response; it is safe to call from
// any goroutine.
func (sv *server) exchange(req *http.Request) (*resp, error) {
	res, err := sv.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	return &resp{method: req.Method, url: req.URL.String(), status: res.StatusCode, header: res.Header, body: body}, nil
}

// request builds a request with a fixed body (nil: none).
func (sv *server) request(t testing.TB, method, target string, h http.Header, body []byte) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, sv.url(target), rd)
	if err != nil {
		t.Fatalf("build %s %s: %v", method, target, err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	return req
}

// checkCommon asserts the invariants of every response.
func checkCommon(t testing.TB, r *resp) {
	t.Helper()
	if got := r.header.Values("Tus-Resumable"); len(got) != 1 || got[0] != tusVersion {
		t.Errorf("%s %s → %d: Tus-Resumable %q, want exactly %q", r.method, r.url, r.status, got, tusVersion)
	}
	if r.status == http.StatusPreconditionFailed && r.get("Tus-Version") == "" {
		t.Errorf("%s %s → 412 without Tus-Version", r.method, r.url)
	}
	if r.method == http.MethodHead && len(r.body) > 0 {
		t.Errorf("HEAD %s → %d carried a body of %d bytes", r.url, r.status, len(r.body))
	}
}

// wantStatus stops the test unless r has the wanted status.
func wantStatus(t testing.TB, r *resp, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("%s %s → %d, want %d (body %q)", r.method, r.url, r.status, want, r.body)
	}
}

// wantHeader checks a response header's exact value.
func wantHeader(t testing.TB, r *resp, name, want string) {
	t.Helper()
	if !r.has(name) {
		t.Errorf("%s %s → %d: %s missing, want %q", r.method, r.url, r.status, name, want)
		return
	}
	if got := r.get(name); got != want {
		t.Errorf("%s %s → %d: %s = %q, want %q", r.method, r.url, r.status, name, got, want)
	}
}

// wantNoHeader checks that a response header is absent.
func wantNoHeader(t testing.TB, r *resp, name string) {
	t.Helper()
	if r.has(name) {
		t.Errorf("%s %s → %d: unexpected %s: %q", r.method, r.url, r.status, name, r.get(name))
	}
}

// wantList checks that a comma-separated header lists every wanted item
// (case-insensitively, as HTTP field names compare).
func wantList(t testing.TB, r *resp, name string, want ...string) {
	t.Helper()
	have := map[string]bool{}
	for _, v := range r.header.Values(name) {
		for _, item := range strings.Split(v, ",") {
			have[strings.ToLower(strings.TrimSpace(item))] = true
		}
	}
	for _, w := range want {
		if !have[strings.ToLower(w)] {
			t.Errorf("%s %s → %d: %s = %q lacks %q", r.method, r.url, r.status, name, r.header.Values(name), w)
		}
	}
}

var uploadURLPattern = regexp.MustCompile(`^https?://[^/]+/files/([0-9a-f]{32})$`)

// idOf returns the upload ID of an absolute upload URL.
func idOf(t testing.TB, url string) string {
	t.Helper()
	m := uploadURLPattern.FindStringSubmatch(url)
	if m == nil {
		t.Fatalf("upload URL %q is not absolute with a 32-hex ID under %s", url, basePath)
	}
	return m[1]
}

// pathOf returns the path of an absolute upload URL.
func pathOf(t testing.TB, url string) string {
	t.Helper()
	return basePath + idOf(t, url)
}

// post creates an upload and returns the response.
func (sv *server) post(t testing.TB, h http.Header, body []byte) *resp {
	t.Helper()
	return sv.do(t, http.MethodPost, basePath, h, body)
}

// create makes an upload of the given length (extra header pairs added) and
// returns its absolute URL.
func (sv *server) create(t testing.TB, length int64, kv ...string) string {
	t.Helper()
	r := sv.post(t, tus(append([]string{"Upload-Length", strconv.FormatInt(length, 10)}, kv...)...), nil)
	wantStatus(t, r, http.StatusCreated)
	loc := r.get("Location")
	idOf(t, loc)
	return loc
}

// createDeferred makes an upload with Upload-Defer-Length: 1.
func (sv *server) createDeferred(t testing.TB, kv ...string) string {
	t.Helper()
	r := sv.post(t, tus(append([]string{"Upload-Defer-Length", "1"}, kv...)...), nil)
	wantStatus(t, r, http.StatusCreated)
	loc := r.get("Location")
	idOf(t, loc)
	return loc
}

// patch sends data at offset with the right Content-Type and Content-Length.
func (sv *server) patch(t testing.TB, url string, offset int64, data []byte, kv ...string) *resp {
	t.Helper()
	h := tus(append([]string{"Content-Type", offsetOctet, "Upload-Offset", strconv.FormatInt(offset, 10)}, kv...)...)
	if data == nil {
		data = []byte{}
	}
	return sv.do(t, http.MethodPatch, url, h, data)
}

// patchOK sends data at offset and requires 204 with the new offset.
func (sv *server) patchOK(t testing.TB, url string, offset int64, data []byte, kv ...string) {
	t.Helper()
	r := sv.patch(t, url, offset, data, kv...)
	wantStatus(t, r, http.StatusNoContent)
	wantHeader(t, r, "Upload-Offset", strconv.FormatInt(offset+int64(len(data)), 10))
}

// patchChunked sends data at offset with Transfer-Encoding: chunked (no
// Content-Length).
func (sv *server) patchChunked(t testing.TB, url string, offset int64, data []byte, kv ...string) *resp {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPatch, sv.url(url), io.MultiReader(bytes.NewReader(data)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = tus(append([]string{"Content-Type", offsetOctet, "Upload-Offset", strconv.FormatInt(offset, 10)}, kv...)...)
	req.ContentLength = -1
	req.TransferEncoding = []string{"chunked"}
	return sv.send(t, req)
}

// head sends a tus HEAD.
func (sv *server) head(t testing.TB, url string) *resp {
	t.Helper()
	return sv.do(t, http.MethodHead, url, tus(), nil)
}

// offset returns the upload's offset from a HEAD that must succeed.
func (sv *server) offset(t testing.TB, url string) int64 {
	t.Helper()
	r := sv.head(t, url)
	wantStatus(t, r, http.StatusOK)
	n, err := strconv.ParseInt(r.get("Upload-Offset"), 10, 64)
	if err != nil {
		t.Fatalf("HEAD %s: Upload-Offset %q: %v", url, r.get("Upload-Offset"), err)
	}
	return n
}

// wantOffset checks the upload's offset via HEAD.
func (sv *server) wantOffset(t testing.TB, url string, want int64) {
	t.Helper()
	if got := sv.offset(t, url); got != want {
		t.Fatalf("HEAD %s: Upload-Offset %d, want %d", url, got, want)
	}
}

// upload creates an upload holding data in one PATCH and returns its URL.
func (sv *server) upload(t testing.TB, data []byte, kv ...string) string {
	t.Helper()
	url := sv.create(t, int64(len(data)), kv...)
	if len(data) > 0 {
		sv.patchOK(t, url, 0, data)
	}
	return url
}

// content downloads a finished upload with GET and returns its bytes.
func (sv *server) content(t testing.TB, url string) []byte {
	t.Helper()
	r := sv.do(t, http.MethodGet, url, nil, nil)
	wantStatus(t, r, http.StatusOK)
	return r.body
}

// wantContent checks that GET returns exactly want.
func (sv *server) wantContent(t testing.TB, url string, want []byte) {
	t.Helper()
	if got := sv.content(t, url); !bytes.Equal(got, want) {
		t.Fatalf("GET %s: %d bytes that differ from the %d sent (first %q, want %q)",
			url, len(got), len(want), prefix(got), prefix(want))
	}
}

func prefix(b []byte) []byte {
	if len(b) > 32 {
		return b[:32]
	}
	return b
}

// payload returns n deterministic pseudo-random bytes.
func payload(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, uint64(n)))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return b
}

// waitFor polls cond every 10ms until it holds or the generous deadline
// passes; it waits for an event, it does not time anything.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// record reads the upload's state record directly (no lock, no takeover), to
// observe a request in flight without disturbing it.
func (sv *server) record(t testing.TB, id string) *state.Upload {
	t.Helper()
	u, err := sv.env.Store.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("state Get %s: %v", id, err)
	}
	return u
}

// waitLocked waits until a request holds the upload's lock.
func (sv *server) waitLocked(t testing.TB, id string) {
	t.Helper()
	waitFor(t, "a request to hold the lock of "+id, func() bool { return sv.record(t, id).Locked })
}

// waitUnlocked waits until no request holds the upload's lock.
func (sv *server) waitUnlocked(t testing.TB, id string) {
	t.Helper()
	waitFor(t, "the lock of "+id+" to be released", func() bool { return !sv.record(t, id).Locked })
}

// wantHTTPDate checks that a header is an IMF-fixdate in GMT (EX-3) in the
// future and returns it.
func wantHTTPDate(t testing.TB, r *resp, name string) time.Time {
	t.Helper()
	v := r.get(name)
	if v == "" {
		t.Fatalf("%s %s → %d: %s missing", r.method, r.url, r.status, name)
	}
	ts, err := http.ParseTime(v)
	if err != nil {
		t.Fatalf("%s %q is not an HTTP date: %v", name, v, err)
	}
	if !strings.HasSuffix(v, " GMT") || ts.UTC().Format(http.TimeFormat) != v {
		t.Errorf("%s %q is not in IMF-fixdate GMT form (%q)", name, v, ts.UTC().Format(http.TimeFormat))
	}
	if !ts.After(time.Now().Add(-2 * time.Second)) {
		t.Errorf("%s %q is already in the past", name, v)
	}
	return ts
}

// readCloser is a body of unknown length (net/http then sends it chunked).
func readCloser(b []byte) io.ReadCloser { return io.NopCloser(io.MultiReader(bytes.NewReader(b))) }
