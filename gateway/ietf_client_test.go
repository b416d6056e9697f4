package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/dunglas/httpsfv"

	"github.com/tusgate/tusgate/test/e2e"
)

// draftClient is a small client of draft-ietf-httpbis-resumable-upload-11
// (interop version 8; the tests also point it at 5 and 6), written from the
// draft's text because there is no third-party one yet. Every request
// carries the interop version, and every 104 interim response is recorded
// through httptrace.
type draftClient struct {
	t       *testing.T
	version string
	hc      *http.Client
}

func newDraftClient(t *testing.T, version int64) *draftClient {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &draftClient{t: t, version: strconv.FormatInt(version, 10), hc: &http.Client{Transport: tr}}
}

// reply is the outcome of one exchange: the 104s, then the final response,
// or err when none came (a cut connection).
type reply struct {
	status  int
	header  http.Header
	body    []byte
	interim []http.Header
	err     error
}

// problem decodes an RFC 9457 body.
func (r reply) problem(t *testing.T) map[string]any {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != problemJSON {
		t.Fatalf("Content-Type %q, want %s; body %q", ct, problemJSON, r.body)
	}
	var p map[string]any
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("problem body %q: %v", r.body, err)
	}
	return p
}

// request builds a request of this client's version. size is the
// Content-Length (-1: chunked, 0: no body).
func (d *draftClient) request(method, url string, body io.Reader, size int64, h http.Header) *http.Request {
	d.t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		d.t.Fatal(err)
	}
	req.ContentLength = size
	if size == 0 {
		req.Body = http.NoBody
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set(hdrInterop, d.version)
	return req
}

// do sends req; onInterim, if set, sees each 104 as it arrives.
func (d *draftClient) do(req *http.Request, onInterim func(http.Header)) reply {
	d.t.Helper()
	var mu sync.Mutex
	var interim []http.Header
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
		if code != statusUploadResumptionSupported {
			return nil
		}
		hh := http.Header(h).Clone()
		mu.Lock()
		interim = append(interim, hh)
		mu.Unlock()
		if onInterim != nil {
			onInterim(hh)
		}
		return nil
	}}
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	res, err := d.hc.Do(req)
	mu.Lock()
	out := reply{interim: interim, err: err}
	mu.Unlock()
	if err != nil {
		return out
	}
	defer res.Body.Close()
	out.status, out.header = res.StatusCode, res.Header
	out.body, out.err = io.ReadAll(res.Body)
	return out
}

// create is upload creation (draft -11 section 4.2): any method with
// content and Upload-Complete; the length is indicated with Upload-Length.
func (d *draftClient) create(endpoint string, body io.Reader, size, length int64, complete bool, h http.Header, onInterim func(http.Header)) reply {
	d.t.Helper()
	hh := http.Header{hdrUploadComplete: {sfBoolText(complete)}}
	if length >= 0 {
		hh.Set(hdrUploadLength, strconv.FormatInt(length, 10))
	}
	for k, v := range h {
		hh[k] = v
	}
	return d.do(d.request(http.MethodPost, endpoint, body, size, hh), onInterim)
}

// offset is offset retrieval (section 4.3): HEAD, whose success carries
// Upload-Offset and Upload-Complete.
func (d *draftClient) offset(url string) (offset int64, complete bool, r reply) {
	d.t.Helper()
	r = d.do(d.request(http.MethodHead, url, nil, 0, nil), nil)
	if r.err != nil || r.status/100 != 2 {
		d.t.Fatalf("HEAD %s: %d %v", url, r.status, r.err)
	}
	offset, ok := itemInt(r.header.Get(hdrUploadOffset))
	if !ok {
		d.t.Fatalf("HEAD %s: Upload-Offset %q is not an Integer", url, r.header.Get(hdrUploadOffset))
	}
	complete, ok = itemBool(r.header.Get(hdrUploadComplete))
	if !ok {
		d.t.Fatalf("HEAD %s: Upload-Complete %q is not a Boolean", url, r.header.Get(hdrUploadComplete))
	}
	return offset, complete, r
}

// appendData is upload append (section 4.4): PATCH with
// application/partial-upload, Upload-Offset and Upload-Complete.
func (d *draftClient) appendData(url string, offset int64, body []byte, complete bool) reply {
	d.t.Helper()
	h := http.Header{
		"Content-Type":    {partialUpload},
		hdrUploadOffset:   {strconv.FormatInt(offset, 10)},
		hdrUploadComplete: {sfBoolText(complete)},
	}
	return d.do(d.request(http.MethodPatch, url, bytes.NewReader(body), int64(len(body)), h), nil)
}

// cancel is upload cancellation (section 4.5).
func (d *draftClient) cancel(url string) reply {
	d.t.Helper()
	return d.do(d.request(http.MethodDelete, url, nil, 0, nil), nil)
}

func itemInt(v string) (int64, bool) {
	it, err := httpsfv.UnmarshalItem([]string{v})
	if err != nil {
		return 0, false
	}
	n, ok := it.Value.(int64)
	return n, ok
}

func itemBool(v string) (b, ok bool) {
	it, err := httpsfv.UnmarshalItem([]string{v})
	if err != nil {
		return false, false
	}
	b, ok = it.Value.(bool)
	return b, ok
}

// limits parses Upload-Limit into its Integer members.
func limits(t *testing.T, v string) map[string]int64 {
	t.Helper()
	d, err := httpsfv.UnmarshalDictionary([]string{v})
	if err != nil {
		t.Fatalf("Upload-Limit %q: %v", v, err)
	}
	out := map[string]int64{}
	for _, k := range d.Names() {
		m, _ := d.Get(k)
		it, ok := m.(httpsfv.Item)
		n, isInt := it.Value.(int64)
		if !ok || !isInt {
			t.Fatalf("Upload-Limit %q: %s is not an Integer", v, k)
		}
		out[k] = n
	}
	return out
}

var errCut = errors.New("connection lost (test)")

// cutBody is a request body lost mid-way: it sends nothing until announced
// is closed (the 104 arrived, so the client knows where to resume), then
// data, then waits for release and fails, which makes the transport drop the
// connection.
type cutBody struct {
	data               []byte
	announced, release <-chan struct{}
	sent               int
}

func (b *cutBody) Read(p []byte) (int, error) {
	if b.sent == 0 && b.announced != nil {
		select {
		case <-b.announced:
		case <-b.release:
			return 0, errCut
		}
	}
	if b.sent < len(b.data) {
		n := copy(p, b.data[b.sent:])
		b.sent += n
		return n, nil
	}
	<-b.release
	return 0, errCut
}

// TestDraft11ClientResumesAnOptimisticUpload follows draft -11 step by
// step: an optimistic creation with the whole representation and
// Upload-Complete: ?1, cut after the 104 and part of the body; offset
// retrieval; an append of the rest that completes the upload; the stored
// bytes are the representation.
func TestDraft11ClientResumesAnOptimisticUpload(t *testing.T) {
	env := newDraftEnv(t, Config{MaxSize: 1 << 30, Expiration: time.Hour})
	d := newDraftClient(t, 8)
	data := sourceBytes(5*syncStep+123, 11)
	const cut = 3 * syncStep

	// 1. Upload creation: the whole representation, announced as complete.
	announced, release := make(chan struct{}), make(chan struct{})
	t.Cleanup(func() { closeOnce(release) })
	var location string
	var first http.Header
	var once sync.Once
	onInterim := func(h http.Header) {
		// A 104 without our interop version MUST be ignored (appendix).
		if h.Get(hdrInterop) != "8" || h.Get("Location") == "" {
			return
		}
		once.Do(func() { first, location = h, h.Get("Location"); close(announced) })
	}
	done := make(chan reply, 1)
	go func() {
		done <- d.create(env.base, &cutBody{data: data[:cut], announced: announced, release: release},
			int64(len(data)), int64(len(data)), true, nil, onInterim)
	}()
	select {
	case <-announced:
	case <-time.After(time.Minute): // only catches a hang
		t.Fatal("no 104 announced the upload before the body was sent")
	}
	// The client SHOULD respect the limits of the 104.
	if lim := limits(t, first.Get(hdrUploadLimit)); lim["max-size"] < int64(len(data)) {
		t.Fatalf("Upload-Limit max-size %d is below the %d bytes to upload", lim["max-size"], len(data))
	}
	// The connection is lost once the server holds the first part.
	e2e.AwaitCommitted(t, env.store, location, cut, nil)
	close(release)
	if r := <-done; r.err == nil {
		t.Fatalf("the cut creation got a final response %d", r.status)
	}

	// 2. Offset retrieval.
	offset, complete, r := d.offset(location)
	if offset != cut || complete {
		t.Fatalf("after the cut: Upload-Offset %d, Upload-Complete %v; want %d, false", offset, complete, cut)
	}
	if got := r.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("offset retrieval Cache-Control %q, want no-store", got)
	}
	if n, _ := itemInt(r.header.Get(hdrUploadLength)); n != int64(len(data)) {
		t.Errorf("Upload-Length %q, want %d", r.header.Get(hdrUploadLength), len(data))
	}

	// 3. Upload append of the rest, completing the upload.
	r = d.appendData(location, offset, data[offset:], true)
	if r.err != nil || r.status/100 != 2 {
		t.Fatalf("append: %d %v %q", r.status, r.err, r.body)
	}
	if c, ok := itemBool(r.header.Get(hdrUploadComplete)); !ok || !c {
		t.Errorf("completing append: Upload-Complete %q, want ?1", r.header.Get(hdrUploadComplete))
	}
	if _, complete, _ := d.offset(location); !complete {
		t.Error("offset retrieval after completion: Upload-Complete ?0")
	}
	env.checkStored(t, location, data)
}
