package gateway

import (
	"bytes"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tusgate/tusgate/backends/filestore"
	"github.com/tusgate/tusgate/state/boltstore"
	"github.com/tusgate/tusgate/test/e2e"
	"github.com/tusgate/tusgate/test/testenv"
)

// syncStep is how often the file backend of these tests commits, so a
// test can wait until a part of a body is stored before cutting it.
const syncStep = 16 << 10

// draftEnv is a gateway on bbolt and files behind a real HTTP server.
type draftEnv struct {
	base  string // upload base URL
	store *boltstore.Store
}

func newDraftEnv(t *testing.T, cfg Config) *draftEnv {
	t.Helper()
	st, fs := localStores(t, 3*time.Second, filestore.Options{SyncBytes: syncStep, SyncInterval: -1})
	cfg.Logger = slog.New(slog.DiscardHandler)
	g, err := New(cfg, st, st, fs)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return &draftEnv{base: srv.URL + "/files/", store: st}
}

// checkStored downloads the upload (a tus GET) and compares it with want.
func (e *draftEnv) checkStored(t *testing.T, url string, want []byte) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	got, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, res.StatusCode, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("stored %d bytes differ from the %d uploaded", len(got), len(want))
	}
}

// tus sends a tus 1.0 request.
func tus(t *testing.T, method, url string, body []byte, h http.Header) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set(hdrTusResumable, tusVersion)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	return res
}

func sourceBytes(n int, seed uint64) []byte { return testenv.Source(n, seed) }

func closeOnce(ch chan struct{}) {
	select {
	case <-ch:
	default:
		close(ch)
	}
}

var servedVersions = []int64{5, 6, 8}

func eachVersion(t *testing.T, f func(t *testing.T, v int64)) {
	for _, v := range servedVersions {
		t.Run("interop-"+strconv.FormatInt(v, 10), func(t *testing.T) { f(t, v) })
	}
}

func wantHeader(t *testing.T, h http.Header, name, want string) {
	t.Helper()
	if got := h.Get(name); got != want {
		t.Errorf("%s %q, want %q", name, got, want)
	}
}

func wantStatus(t *testing.T, what string, r reply, want int) {
	t.Helper()
	if r.err != nil || r.status != want {
		t.Fatalf("%s: status %d (%v), want %d; body %q", what, r.status, r.err, want, r.body)
	}
}

// Creation with part of the body is announced by a 104 (Location, the
// interop version, Upload-Limit from version 6 on) before the 201 with the
// same Location; offset retrieval and an append of the rest complete it.
func TestDraftCreationWithBodyThenAppend(t *testing.T) {
	env := newDraftEnv(t, Config{Expiration: time.Hour})
	eachVersion(t, func(t *testing.T, v int64) {
		d := newDraftClient(t, v)
		data := sourceBytes(100_000, uint64(v))
		half := int64(len(data) / 2)
		r := d.create(env.base, bytes.NewReader(data[:half]), half, int64(len(data)), false, nil, nil)
		wantStatus(t, "creation", r, http.StatusCreated)
		if len(r.interim) == 0 {
			t.Fatal("no 104 before the final response")
		}
		i := r.interim[0]
		loc := r.header.Get("Location")
		if loc == "" || i.Get("Location") != loc {
			t.Errorf("104 Location %q, final Location %q: want the same, non-empty", i.Get("Location"), loc)
		}
		wantHeader(t, i, hdrInterop, strconv.FormatInt(v, 10))
		if has := i.Get(hdrUploadLimit) != ""; has != (v >= 6) {
			t.Errorf("104 Upload-Limit %q: want it from version 6 on", i.Get(hdrUploadLimit))
		}
		wantHeader(t, r.header, hdrUploadOffset, strconv.FormatInt(half, 10))
		wantHeader(t, r.header, hdrUploadComplete, "?0")
		wantHeader(t, r.header, hdrTusResumable, "")
		checkProgress(t, "creation", r.interim[1:], 0, half)

		offset, complete, h := d.offset(loc)
		if h.status != http.StatusNoContent || offset != half || complete {
			t.Fatalf("HEAD: %d, offset %d, complete %v; want 204, %d, false", h.status, offset, complete, half)
		}
		wantHeader(t, h.header, hdrUploadLength, strconv.Itoa(len(data)))
		wantHeader(t, h.header, "Cache-Control", "no-store")

		r = d.appendData(loc, offset, data[offset:], true)
		wantStatus(t, "append", r, http.StatusNoContent)
		wantHeader(t, r.header, hdrUploadComplete, "?1")
		wantHeader(t, r.header, hdrUploadOffset, strconv.Itoa(len(data)))
		checkProgress(t, "append", r.interim, half, int64(len(data)))
		env.checkStored(t, loc, data)
	})
}

// checkProgress checks the progress 104s of a body stored from offset from
// to to: one per commit (how many depends on how the body arrives), offsets
// rising to the end of the body, and no Location or Upload-Limit, which only
// the creation's first 104 carries.
func checkProgress(t *testing.T, what string, interim []http.Header, from, to int64) {
	t.Helper()
	if len(interim) == 0 {
		t.Errorf("%s: no progress 104", what)
		return
	}
	last := from
	for _, h := range interim {
		n, ok := itemInt(h.Get(hdrUploadOffset))
		if !ok || n <= last || n > to {
			t.Errorf("%s: progress Upload-Offset %q after %d, want a rising offset up to %d", what, h.Get(hdrUploadOffset), last, to)
		}
		last = n
		if h.Get("Location") != "" || h.Get(hdrUploadLimit) != "" {
			t.Errorf("%s: a progress 104 carries Location %q or Upload-Limit %q", what, h.Get("Location"), h.Get(hdrUploadLimit))
		}
	}
	if last != to {
		t.Errorf("%s: the last progress 104 says %d, want the stored %d", what, last, to)
	}
}

// Creation without a body and without a length (careful creation) gets the
// 104 and a 201 at offset 0; the length is learnt from the append that
// completes the upload (its offset plus Content-Length).
func TestDraftCreationWithoutBodyLearnsTheLengthAtTheEnd(t *testing.T) {
	env := newDraftEnv(t, Config{})
	eachVersion(t, func(t *testing.T, v int64) {
		d := newDraftClient(t, v)
		data := sourceBytes(3*syncStep+7, 20+uint64(v))
		r := d.create(env.base, nil, 0, -1, false, nil, nil)
		wantStatus(t, "creation", r, http.StatusCreated)
		if len(r.interim) == 0 {
			t.Error("no 104 on a creation without body")
		}
		loc := r.header.Get("Location")
		wantHeader(t, r.header, hdrUploadOffset, "0")
		_, _, h := d.offset(loc)
		wantHeader(t, h.header, hdrUploadLength, "")

		r = d.appendData(loc, 0, data[:syncStep], false)
		wantStatus(t, "first append", r, http.StatusNoContent)
		wantHeader(t, r.header, hdrUploadComplete, "?0")
		r = d.appendData(loc, syncStep, data[syncStep:], true)
		wantStatus(t, "last append", r, http.StatusNoContent)
		offset, complete, h := d.offset(loc)
		if offset != int64(len(data)) || !complete {
			t.Fatalf("after the last append: offset %d, complete %v", offset, complete)
		}
		wantHeader(t, h.header, hdrUploadLength, strconv.Itoa(len(data)))
		env.checkStored(t, loc, data)
	})
}

// A creation carrying the whole representation with Upload-Complete: ?1
// completes in one request, an empty one included.
func TestDraftCompleteCreation(t *testing.T) {
	env := newDraftEnv(t, Config{})
	eachVersion(t, func(t *testing.T, v int64) {
		d := newDraftClient(t, v)
		for _, n := range []int{0, 50_000} {
			data := sourceBytes(n, 30+uint64(v))
			r := d.create(env.base, bytes.NewReader(data), int64(n), -1, true, nil, nil)
			wantStatus(t, "creation", r, http.StatusCreated)
			wantHeader(t, r.header, hdrUploadComplete, "?1")
			wantHeader(t, r.header, hdrUploadOffset, strconv.Itoa(n))
			_, complete, h := d.offset(r.header.Get("Location"))
			if !complete {
				t.Errorf("%d bytes: HEAD says incomplete", n)
			}
			wantHeader(t, h.header, hdrUploadLength, strconv.Itoa(n))
			env.checkStored(t, r.header.Get("Location"), data)
		}
	})
}

// An append at the wrong offset is 409 with the right Upload-Offset,
// Upload-Complete: ?0 and the mismatching-upload-offset problem; nothing
// changes.
func TestDraftOffsetMismatchIsAProblem(t *testing.T) {
	env := newDraftEnv(t, Config{})
	eachVersion(t, func(t *testing.T, v int64) {
		d := newDraftClient(t, v)
		r := d.create(env.base, strings.NewReader("0123456789"), 10, 20, false, nil, nil)
		loc := r.header.Get("Location")
		for _, at := range []int64{5, 15} {
			r = d.appendData(loc, at, []byte("abcde"), false)
			wantStatus(t, "append at the wrong offset", r, http.StatusConflict)
			wantHeader(t, r.header, hdrUploadOffset, "10")
			wantHeader(t, r.header, hdrUploadComplete, "?0")
			p := r.problem(t)
			if p["type"] != problemMismatchingOffset || p["expected-offset"] != 10.0 || p["provided-offset"] != float64(at) {
				t.Errorf("problem %v, want %s with expected-offset 10, provided-offset %d", p, problemMismatchingOffset, at)
			}
		}
		if offset, _, _ := d.offset(loc); offset != 10 {
			t.Errorf("offset %d after refused appends, want 10", offset)
		}
	})
}

// Lengths that disagree are 400 with the inconsistent-upload-length
// problem: Upload-Length against a complete body, an end short of the
// length, data for a completed upload.
func TestDraftInconsistentLengthIsAProblem(t *testing.T) {
	env := newDraftEnv(t, Config{})
	eachVersion(t, func(t *testing.T, v int64) {
		d := newDraftClient(t, v)
		isInconsistent := func(what string, r reply) {
			t.Helper()
			wantStatus(t, what, r, http.StatusBadRequest)
			if p := r.problem(t); p["type"] != problemInconsistentLength {
				t.Errorf("%s: problem %v, want %s", what, p, problemInconsistentLength)
			}
		}
		r := d.create(env.base, strings.NewReader("01234"), 5, 10, true, nil, nil)
		isInconsistent("complete creation of 5 bytes with Upload-Length 10", r)
		if len(r.interim) != 0 || r.header.Get("Location") != "" {
			t.Error("a refused creation announced an upload")
		}

		r = d.create(env.base, strings.NewReader("0123"), 4, 10, false, nil, nil)
		loc := r.header.Get("Location")
		isInconsistent("completing append short of the length", d.appendData(loc, 4, []byte("456"), true))
		isInconsistent("append past the length", d.appendData(loc, 4, []byte("456789abc"), false))
		if offset, _, _ := d.offset(loc); offset != 4 {
			t.Errorf("offset %d after refused appends, want 4", offset)
		}
		wantStatus(t, "completing append", d.appendData(loc, 4, []byte("456789"), true), http.StatusNoContent)
		isInconsistent("append to a completed upload", d.appendData(loc, 10, []byte("x"), false))
		// An empty append to it is answered with its state again.
		r = d.appendData(loc, 10, nil, true)
		wantStatus(t, "empty append to a completed upload", r, http.StatusNoContent)
		wantHeader(t, r.header, hdrUploadComplete, "?1")
	})
}

// A refused append leaves no length behind: Upload-Length that disagrees
// with the end Upload-Complete: ?1 gives is 400, and the upload's length is
// still unknown afterwards, so a consistent append can still complete it.
func TestDraftRefusedAppendDeclaresNoLength(t *testing.T) {
	env := newDraftEnv(t, Config{})
	eachVersion(t, func(t *testing.T, v int64) {
		d := newDraftClient(t, v)
		loc := d.create(env.base, nil, 0, -1, false, nil, nil).header.Get("Location")
		h := http.Header{
			"Content-Type":    {partialUpload},
			hdrUploadOffset:   {"0"},
			hdrUploadComplete: {sfBoolText(true)},
			hdrUploadLength:   {"10"},
		}
		r := d.do(d.request(http.MethodPatch, loc, strings.NewReader("012"), 3, h), nil)
		wantStatus(t, "Upload-Length 10 with a complete 3-byte append", r, http.StatusBadRequest)
		if _, _, hr := d.offset(loc); hr.header.Get(hdrUploadLength) != "" {
			t.Fatalf("a refused append left Upload-Length %q", hr.header.Get(hdrUploadLength))
		}
		wantStatus(t, "consistent completing append", d.appendData(loc, 0, []byte("012"), true), http.StatusNoContent)
		env.checkStored(t, loc, []byte("012"))
	})
}

// Cancellation removes the upload: later requests are 404, with a problem
// body where there is a body.
func TestDraftCancellation(t *testing.T) {
	env := newDraftEnv(t, Config{})
	eachVersion(t, func(t *testing.T, v int64) {
		d := newDraftClient(t, v)
		r := d.create(env.base, strings.NewReader("abc"), 3, 10, false, nil, nil)
		loc := r.header.Get("Location")
		wantStatus(t, "cancellation", d.cancel(loc), http.StatusNoContent)
		wantStatus(t, "HEAD after cancellation", d.do(d.request(http.MethodHead, loc, nil, 0, nil), nil), http.StatusNotFound)
		r = d.appendData(loc, 3, []byte("d"), false)
		wantStatus(t, "append after cancellation", r, http.StatusNotFound)
		if p := r.problem(t); p["type"] != "about:blank" || p["status"] != 404.0 {
			t.Errorf("problem %v, want about:blank with status 404", p)
		}
	})
}

// Upload-Limit comes from --max-size (or the backend's largest object) and
// the expiration: max-age (expires in version 6), min-size=0, none in
// version 5 which predates it. OPTIONS announces it, version 8 with
// Accept-Patch; a creation beyond max-size is 413 with the limits.
func TestDraftLimits(t *testing.T) {
	env := newDraftEnv(t, Config{MaxSize: 1 << 20, Expiration: time.Hour})
	want := map[int64]map[string]int64{
		6: {"max-size": 1 << 20, "min-size": 0, "expires": 3600},
		8: {"max-size": 1 << 20, "min-size": 0, "max-age": 3600},
	}
	eachVersion(t, func(t *testing.T, v int64) {
		d := newDraftClient(t, v)
		r := d.do(d.request(http.MethodOptions, env.base, nil, 0, nil), nil)
		wantStatus(t, "OPTIONS", r, http.StatusOK)
		if v == 5 {
			wantHeader(t, r.header, hdrUploadLimit, "")
		} else if got := limits(t, r.header.Get(hdrUploadLimit)); !equalLimits(got, want[v]) {
			t.Errorf("OPTIONS Upload-Limit %v, want %v", got, want[v])
		}
		if v == 8 {
			wantHeader(t, r.header, "Accept-Patch", partialUpload)
		}

		r = d.create(env.base, nil, 0, 1<<20+1, false, nil, nil)
		wantStatus(t, "creation beyond max-size", r, http.StatusRequestEntityTooLarge)
		if len(r.interim) != 0 {
			t.Error("a refused creation sent a 104")
		}
		if v >= 6 && r.header.Get(hdrUploadLimit) == "" {
			t.Error("413 without Upload-Limit")
		}
		if v == 5 {
			return
		}
		r = d.create(env.base, nil, 0, 10, false, nil, nil)
		_, _, h := d.offset(r.header.Get("Location"))
		age := map[int64]string{6: "expires", 8: "max-age"}[v]
		if got := limits(t, h.header.Get(hdrUploadLimit))[age]; got <= 0 || got > 3600 {
			t.Errorf("HEAD %s %d, want the remaining lifetime in (0, 3600]", age, got)
		}
	})
}

func equalLimits(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

// Other interop versions are refused with a problem, no 104 and nothing
// created; a request without the header is tus 1.0.
func TestDraftOtherInteropVersionsAreRefused(t *testing.T) {
	env := newDraftEnv(t, Config{})
	for _, v := range []string{"7", "9", "4", "abc", "5, 6", "-8"} {
		d := newDraftClient(t, 8)
		d.version = v
		r := d.create(env.base, strings.NewReader("abc"), 3, 3, true, nil, nil)
		wantStatus(t, "version "+v, r, http.StatusBadRequest)
		if len(r.interim) != 0 || r.header.Get("Location") != "" {
			t.Errorf("version %q: an upload was announced", v)
		}
		if p := r.problem(t); !strings.Contains(p["detail"].(string), "5, 6 and 8") {
			t.Errorf("version %q: problem %v does not name the served versions", v, p)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, env.base, nil)
	req.Header.Set(hdrUploadComplete, "?1")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusPreconditionFailed {
		t.Errorf("no interop version and no Tus-Resumable: %d, want tus's 412", res.StatusCode)
	}
}

// From version 6 an append must be application/partial-upload; version 5
// (tus-js-client's ietf-draft-03) sends no Content-Type.
func TestDraftAppendMediaType(t *testing.T) {
	env := newDraftEnv(t, Config{})
	eachVersion(t, func(t *testing.T, v int64) {
		d := newDraftClient(t, v)
		loc := d.create(env.base, nil, 0, 4, false, nil, nil).header.Get("Location")
		h := http.Header{hdrUploadOffset: {"0"}, hdrUploadComplete: {"?1"}}
		r := d.do(d.request(http.MethodPatch, loc, strings.NewReader("abcd"), 4, h), nil)
		if v == 5 {
			wantStatus(t, "version 5 append without Content-Type", r, http.StatusNoContent)
			return
		}
		wantStatus(t, "append without partial-upload", r, http.StatusUnsupportedMediaType)
	})
}

// stalledAppend starts an append of all of data, completing the upload,
// whose body stops after cut bytes; it returns once the server stored them.
// Closing release cuts the connection; done gets the outcome.
func (e *draftEnv) stalledAppend(t *testing.T, d *draftClient, loc string, data []byte, cut int64) (release chan struct{}, done <-chan reply) {
	t.Helper()
	release = make(chan struct{})
	t.Cleanup(func() { closeOnce(release) })
	h := http.Header{"Content-Type": {partialUpload}, hdrUploadOffset: {"0"}, hdrUploadComplete: {"?1"}}
	out := make(chan reply, 1)
	go func() {
		out <- d.do(d.request(http.MethodPatch, loc, &cutBody{data: data[:cut], release: release}, int64(len(data)), h), nil)
	}()
	e2e.AwaitCommitted(t, e.store, loc, cut, nil)
	return release, out
}

// An append cut mid-body keeps what arrived; offset retrieval reports it
// and an append from there completes the upload.
func TestDraftInterruptedAppendKeepsWhatArrived(t *testing.T) {
	env := newDraftEnv(t, Config{})
	eachVersion(t, func(t *testing.T, v int64) {
		d := newDraftClient(t, v)
		data := sourceBytes(6*syncStep, 40+uint64(v))
		const cut = 4 * syncStep
		loc := d.create(env.base, nil, 0, int64(len(data)), false, nil, nil).header.Get("Location")
		release, done := env.stalledAppend(t, d, loc, data, cut)
		close(release)
		if r := <-done; r.err == nil {
			t.Fatalf("the cut append got a final response %d", r.status)
		}
		offset, complete, _ := d.offset(loc)
		if offset != cut || complete {
			t.Fatalf("after the cut: offset %d, complete %v; want %d, false", offset, complete, cut)
		}
		wantStatus(t, "resumed append", d.appendData(loc, offset, data[offset:], true), http.StatusNoContent)
		env.checkStored(t, loc, data)
	})
}

// A new request takes over an append whose connection hangs, as for tus:
// the hung one stores what it received and lets go, offset retrieval
// reports exactly that, and the upload resumes from it.
func TestDraftNewRequestTakesOverAHungAppend(t *testing.T) {
	env := newDraftEnv(t, Config{LockTimeout: time.Minute})
	d := newDraftClient(t, 8)
	data := sourceBytes(5*syncStep, 50)
	const cut = 2 * syncStep
	loc := d.create(env.base, nil, 0, int64(len(data)), false, nil, nil).header.Get("Location")
	release, done := env.stalledAppend(t, d, loc, data, cut)

	other := newDraftClient(t, 8) // the client back on another connection
	offset, complete, _ := other.offset(loc)
	if offset != cut || complete {
		t.Fatalf("HEAD taking over: offset %d, complete %v; want %d, false", offset, complete, cut)
	}
	wantStatus(t, "append after the takeover", other.appendData(loc, offset, data[offset:], true), http.StatusNoContent)
	close(release)
	if r := <-done; r.err == nil && r.status != http.StatusLocked {
		t.Errorf("the hung append ended with %d, want 423 or a cut connection", r.status)
	}
	env.checkStored(t, loc, data)
}

// tus and the draft work on the same uploads: a tus upload is resumed and
// completed with the draft; a draft upload of unknown length, whose name
// and type came as Content-Disposition and Content-Type, is read and
// completed with tus, and downloads with that name and type.
func TestDraftAndTusShareUploads(t *testing.T) {
	env := newDraftEnv(t, Config{})
	d := newDraftClient(t, 8)

	res := tus(t, http.MethodPost, env.base, []byte("hello"), http.Header{
		hdrUploadLength: {"11"}, "Content-Type": {offsetOctetStream}})
	loc := res.Header.Get("Location")
	offset, complete, h := d.offset(loc)
	if offset != 5 || complete {
		t.Fatalf("draft HEAD of a tus upload: offset %d, complete %v", offset, complete)
	}
	wantHeader(t, h.header, hdrUploadLength, "11")
	wantStatus(t, "draft append to a tus upload", d.appendData(loc, 5, []byte(" world"), true), http.StatusNoContent)
	res = tus(t, http.MethodHead, loc, nil, nil)
	wantHeader(t, res.Header, hdrUploadOffset, "11")
	env.checkStored(t, loc, []byte("hello world"))

	r := d.create(env.base, strings.NewReader("%PDF-"), 5, -1, false, http.Header{
		"Content-Type":        {"application/pdf"},
		"Content-Disposition": {`inline; filename="resume.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf`},
	}, nil)
	wantStatus(t, "draft creation with metadata", r, http.StatusCreated)
	loc = r.header.Get("Location")
	res = tus(t, http.MethodHead, loc, nil, nil)
	wantHeader(t, res.Header, hdrUploadDefer, "1")
	wantHeader(t, res.Header, hdrUploadMetadata, "filename "+base64.StdEncoding.EncodeToString([]byte("résumé.pdf"))+
		",filetype "+base64.StdEncoding.EncodeToString([]byte("application/pdf")))
	res = tus(t, http.MethodPatch, loc, []byte("1.7"), http.Header{
		hdrUploadOffset: {"5"}, hdrUploadLength: {"8"}, "Content-Type": {offsetOctetStream}})
	wantHeader(t, res.Header, hdrUploadOffset, "8")
	if _, complete, _ := d.offset(loc); !complete {
		t.Error("draft HEAD: a tus-completed upload is not complete")
	}
	get, err := http.Get(loc)
	if err != nil {
		t.Fatal(err)
	}
	_ = get.Body.Close()
	wantHeader(t, get.Header, "Content-Type", "application/pdf")
	if cd := get.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "inline") || !strings.Contains(cd, "r%C3%A9sum%C3%A9.pdf") {
		t.Errorf("Content-Disposition %q, want inline with the UTF-8 name", cd)
	}
}

// GET with version 8 is offset retrieval (no content); earlier versions
// and tus download.
func TestDraftGetIsOffsetRetrievalInVersion8(t *testing.T) {
	env := newDraftEnv(t, Config{})
	d := newDraftClient(t, 8)
	loc := d.create(env.base, strings.NewReader("abc"), 3, -1, true, nil, nil).header.Get("Location")
	r := d.do(d.request(http.MethodGet, loc, nil, 0, nil), nil)
	wantStatus(t, "version 8 GET", r, http.StatusNoContent)
	wantHeader(t, r.header, hdrUploadOffset, "3")
	wantHeader(t, r.header, hdrUploadComplete, "?1")
	if len(r.body) != 0 {
		t.Errorf("version 8 GET has content %q", r.body)
	}
	d6 := newDraftClient(t, 6)
	r = d6.do(d6.request(http.MethodGet, loc, nil, 0, nil), nil)
	wantStatus(t, "version 6 GET", r, http.StatusOK)
	if string(r.body) != "abc" {
		t.Errorf("version 6 GET: %q, want the upload", r.body)
	}
}

// FuzzDraftFields: the draft's Integer and Boolean fields are read as RFC
// 9651 items; a value that is not of the field's type is ignored (ok false),
// a read value is what the field says, and an Integer is never negative.
func FuzzDraftFields(f *testing.F) {
	for _, s := range []string{"", "0", "12", "-1", "?1", "?0", "?2", "1;a=b", "1.5", "abc", "1, 2",
		"999999999999999", "9999999999999999", " 7 ", "\"5\"", ":aGk=:", "@1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		r := &http.Request{Header: http.Header{hdrUploadOffset: {v}, hdrUploadComplete: {v}}}
		if n, ok := sfSize(r, hdrUploadOffset); ok {
			if n < 0 {
				t.Fatalf("sfSize(%q) = %d", v, n)
			}
			if m, isInt := itemInt(v); !isInt || m != n {
				t.Fatalf("sfSize(%q) = %d, the item is %d (%v)", v, n, m, isInt)
			}
		}
		if b, ok := sfBool(r, hdrUploadComplete); ok {
			if want, isBool := itemBool(v); !isBool || want != b {
				t.Fatalf("sfBool(%q) = %v, the item is %v (%v)", v, b, want, isBool)
			}
			if _, isInt := sfSize(r, hdrUploadComplete); isInt {
				t.Fatalf("%q read as both a Boolean and an Integer", v)
			}
		}
	})
}

// The draft creates with any method that carries content: PUT to the base
// path works as POST does; for tus it stays 405.
func TestDraftCreationByPut(t *testing.T) {
	env := newDraftEnv(t, Config{})
	d := newDraftClient(t, 8)
	r := d.do(d.request(http.MethodPut, env.base, strings.NewReader("hello"), 5,
		http.Header{hdrUploadComplete: {"?1"}}), nil)
	wantStatus(t, "PUT creation", r, http.StatusCreated)
	if len(r.interim) == 0 || r.interim[0].Get("Location") != r.header.Get("Location") {
		t.Errorf("PUT creation: 104s %v, want one announcing Location %q", r.interim, r.header.Get("Location"))
	}
	env.checkStored(t, r.header.Get("Location"), []byte("hello"))
	if res := tus(t, http.MethodPut, env.base, []byte("x"), nil); res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") == "" {
		t.Errorf("tus PUT: %d, Allow %q; want 405 with Allow", res.StatusCode, res.Header.Get("Allow"))
	}
}
