package client_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tusgate/tusgate/backends/filestore"
	"github.com/tusgate/tusgate/client"
	"github.com/tusgate/tusgate/gateway"
	"github.com/tusgate/tusgate/state/boltstore"
)

// gatewayServer runs a real gateway over bolt + files; wrap, if set, sits in
// front of it to inject failures.
func gatewayServer(t *testing.T, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	dir := t.TempDir()
	st, err := boltstore.Open(filepath.Join(dir, "state.db"), boltstore.Options{LeaseTTL: 3 * time.Second})
	if err != nil {
		t.Fatalf("open bolt store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	be, err := filestore.New(filepath.Join(dir, "data"), filestore.Options{})
	if err != nil {
		t.Fatalf("open file store: %v", err)
	}
	t.Cleanup(func() { _ = be.Close() })
	gw, err := gateway.New(gateway.Config{
		BasePath: "/files/", Expiration: time.Hour, LockTimeout: 5 * time.Second,
		Logger: slog.New(slog.DiscardHandler), Registerer: prometheus.NewRegistry(),
	}, st, st, be)
	if err != nil {
		t.Fatalf("gateway.New: %v", err)
	}
	var h http.Handler = gw
	if wrap != nil {
		h = wrap(gw)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL + "/files/"
}

func newClient(t *testing.T, cfg client.Config) *client.Client {
	t.Helper()
	if cfg.Retry == nil {
		cfg.Retry = &client.Retry{Attempts: 5, Base: 10 * time.Millisecond, Max: 100 * time.Millisecond}
	}
	c, err := client.New(cfg)
	if err != nil {
		t.Fatalf("client.New: %v", err)
	}
	return c
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// stored GETs an upload and compares it with want.
func stored(t *testing.T, url string, want []byte) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	got, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d, err %v", url, res.StatusCode, err)
	}
	if sha256.Sum256(got) != sha256.Sum256(want) {
		t.Fatalf("GET %s: %d stored bytes differ from the %d sent", url, len(got), len(want))
	}
}

func TestUploadVariants(t *testing.T) {
	endpoint := gatewayServer(t, nil)
	data := randomBytes(t, 300<<10+17)
	cases := []struct {
		name string
		cfg  client.Config
		opt  client.UploadOptions
	}{
		{"one_patch", client.Config{}, client.UploadOptions{}},
		{"chunked", client.Config{ChunkSize: 64 << 10}, client.UploadOptions{}},
		{"creation_with_upload", client.Config{ChunkSize: 100 << 10}, client.UploadOptions{CreateWithUpload: true}},
		{"checksum_header_sha256", client.Config{ChunkSize: 64 << 10, Checksum: "sha256"}, client.UploadOptions{}},
		{"checksum_trailer_crc32", client.Config{ChunkSize: 64 << 10, Checksum: "crc32", ChecksumTrailer: true}, client.UploadOptions{}},
		{"parallel_4", client.Config{ChunkSize: 32 << 10, Checksum: "sha1"}, client.UploadOptions{Parallel: 4}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, tc.cfg)
			var last client.Progress
			var calls int
			var resumes []client.Resume
			tc.opt.Endpoint = endpoint
			tc.opt.Metadata = map[string]string{"filename": tc.name + ".bin"}
			tc.opt.Progress = func(p client.Progress) { last = p; calls++ }
			tc.opt.OnResume = func(r client.Resume) { resumes = append(resumes, r) }
			info, err := c.Upload(context.Background(), bytes.NewReader(data), int64(len(data)), tc.opt)
			if err != nil {
				t.Fatalf("Upload: %v", err)
			}
			if !info.Complete() || info.Length != int64(len(data)) {
				t.Fatalf("Upload returned offset %d length %d, want %d of %d", info.Offset, info.Length, len(data), len(data))
			}
			if last.Sent != int64(len(data)) || last.Total != int64(len(data)) || calls < 2 {
				t.Errorf("last progress %+v after %d calls, want %d of %d", last, calls, len(data), len(data))
			}
			if len(resumes) == 0 || resumes[len(resumes)-1].URL != info.URL {
				t.Errorf("OnResume got %+v, want the upload URL %s last", resumes, info.URL)
			}
			stored(t, info.URL, data)
			head, err := c.Head(context.Background(), info.URL)
			if err != nil {
				t.Fatalf("Head: %v", err)
			}
			if !head.Complete() || head.Metadata["filename"] != tc.name+".bin" {
				t.Errorf("Head = %+v, want complete with filename metadata", head)
			}
			if tc.opt.Parallel > 1 && !strings.HasPrefix(head.Concat, "final;") {
				t.Errorf("parallel upload's Upload-Concat is %q, want a final", head.Concat)
			}
		})
	}
}

func TestUploadEmpty(t *testing.T) {
	endpoint := gatewayServer(t, nil)
	c := newClient(t, client.Config{})
	info, err := c.Upload(context.Background(), bytes.NewReader(nil), 0, client.UploadOptions{Endpoint: endpoint, Parallel: 3})
	if err != nil {
		t.Fatalf("Upload: %v", err)
	}
	if !info.Complete() || info.Length != 0 {
		t.Fatalf("empty upload: %+v", info)
	}
	stored(t, info.URL, nil)
}

func TestUploadStreamDeferredLength(t *testing.T) {
	endpoint := gatewayServer(t, nil)
	for _, size := range []int{0, 50 << 10, 64 << 10, 200<<10 + 3} {
		data := randomBytes(t, size)
		c := newClient(t, client.Config{ChunkSize: 16 << 10, Checksum: "md5"})
		// A bare io.Reader: nothing to seek or re-read.
		info, err := c.UploadStream(context.Background(), io.MultiReader(bytes.NewReader(data)), client.UploadOptions{Endpoint: endpoint})
		if err != nil {
			t.Fatalf("UploadStream %d bytes: %v", size, err)
		}
		head, err := c.Head(context.Background(), info.URL)
		if err != nil {
			t.Fatal(err)
		}
		if head.Length != int64(size) || !head.Complete() {
			t.Fatalf("stream of %d bytes: HEAD offset %d length %d", size, head.Offset, head.Length)
		}
		stored(t, info.URL, data)
	}
}

// failingReader returns an error once reads pass limit, like a file on a
// disk that went away: the first run fails, a second one resumes.
type failingReader struct {
	r     io.ReaderAt
	limit int64
}

func (f failingReader) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > f.limit {
		if off >= f.limit {
			return 0, errors.New("disk went away")
		}
		n, _ := f.r.ReadAt(p[:f.limit-off], off)
		return n, errors.New("disk went away")
	}
	return f.r.ReadAt(p, off)
}

func TestResumeAfterFailure(t *testing.T) {
	endpoint := gatewayServer(t, nil)
	data := randomBytes(t, 256<<10)
	for _, parallel := range []int{1, 3} {
		c := newClient(t, client.Config{ChunkSize: 32 << 10})
		var saved client.Resume
		opt := client.UploadOptions{Endpoint: endpoint, Parallel: parallel, OnResume: func(r client.Resume) { saved = r }}
		_, err := c.Upload(context.Background(), failingReader{bytes.NewReader(data), 100 << 10}, int64(len(data)), opt)
		if err == nil || !strings.Contains(err.Error(), "disk went away") {
			t.Fatalf("parallel=%d: first run returned %v, want the read error", parallel, err)
		}
		if saved.URL == "" && len(saved.Partials) == 0 {
			t.Fatalf("parallel=%d: nothing saved to resume", parallel)
		}
		// What the server holds is where the second run must start.
		var held int64
		for _, u := range append(saved.Partials, saved.URL) {
			if u == "" {
				continue
			}
			info, err := c.Head(context.Background(), u)
			if err != nil {
				t.Fatal(err)
			}
			held += info.Offset
		}
		if parallel == 1 && held < 96<<10 {
			t.Fatalf("the first run stored %d bytes, want the 3 chunks before the failure", held)
		}
		var first client.Progress
		opt.Resume = &saved
		opt.Progress = func(p client.Progress) {
			if first.Total == 0 {
				first = p
			}
		}
		info, err := c.Upload(context.Background(), bytes.NewReader(data), int64(len(data)), opt)
		if err != nil {
			t.Fatalf("parallel=%d: resume: %v", parallel, err)
		}
		// The server may still be storing the cut request's bytes when the
		// HEADs above ran, so it can hold more by now, but never more than
		// the 100 KiB the reader gave.
		if first.Sent < held || first.Sent > 100<<10 {
			t.Errorf("parallel=%d: resume started at %d bytes, want between the %d the server held and 100 KiB", parallel, first.Sent, held)
		}
		if parallel == 1 && info.URL != saved.URL {
			t.Errorf("resume made a new upload %s instead of continuing %s", info.URL, saved.URL)
		}
		stored(t, info.URL, data)
	}
}

func TestResumeGoneUploadStartsAfresh(t *testing.T) {
	endpoint := gatewayServer(t, nil)
	c := newClient(t, client.Config{})
	data := randomBytes(t, 1000)
	info, err := c.Create(context.Background(), endpoint, client.CreateOptions{Length: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(context.Background(), info.URL); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := c.Head(context.Background(), info.URL); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("Head after Delete: %v, want ErrNotFound", err)
	}
	got, err := c.Upload(context.Background(), bytes.NewReader(data), 1000, client.UploadOptions{Endpoint: endpoint, Resume: &client.Resume{URL: info.URL}})
	if err != nil {
		t.Fatalf("Upload: %v", err)
	}
	if got.URL == info.URL {
		t.Fatal("Upload reused a terminated upload")
	}
	stored(t, got.URL, data)
}

// cutBody breaks the request body after n bytes, so the gateway sees a
// client that went away mid-PATCH.
type cutBody struct {
	r    io.ReadCloser
	left int64
}

func (b *cutBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errors.New("network cable pulled")
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *cutBody) Close() error { return b.r.Close() }

type cutTransport struct {
	cuts atomic.Int32 // PATCHes still to cut
}

func (c *cutTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPatch && c.cuts.Add(-1) >= 0 {
		req.Body = &cutBody{r: req.Body, left: 40 << 10}
	}
	return http.DefaultTransport.RoundTrip(req)
}

func TestRetryAfterInterruptedPatch(t *testing.T) {
	endpoint := gatewayServer(t, nil)
	data := randomBytes(t, 512<<10)
	tr := &cutTransport{}
	tr.cuts.Store(2)
	c := newClient(t, client.Config{HTTP: &http.Client{Transport: tr}})
	info, err := c.Upload(context.Background(), bytes.NewReader(data), int64(len(data)), client.UploadOptions{Endpoint: endpoint})
	if err != nil {
		t.Fatalf("Upload through two cut PATCHes: %v", err)
	}
	if tr.cuts.Load() >= 0 {
		t.Fatalf("only %d of 2 PATCHes were cut", 2-tr.cuts.Load())
	}
	stored(t, info.URL, data)
}

// statusOnce answers the first n PATCHes with status and a Retry-After.
func statusOnce(status, n int, seen *atomic.Int32) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPatch && int(seen.Add(1)) <= n {
				_, _ = io.Copy(io.Discard, r.Body)
				w.Header().Set("Tus-Resumable", "1.0.0")
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(status)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func TestRetryLockedAndUnavailable(t *testing.T) {
	for _, status := range []int{http.StatusLocked, http.StatusServiceUnavailable} {
		var seen atomic.Int32
		endpoint := gatewayServer(t, statusOnce(status, 3, &seen))
		data := randomBytes(t, 10000)
		c := newClient(t, client.Config{})
		info, err := c.Upload(context.Background(), bytes.NewReader(data), int64(len(data)), client.UploadOptions{Endpoint: endpoint})
		if err != nil {
			t.Fatalf("status %d: %v", status, err)
		}
		if seen.Load() != 4 {
			t.Errorf("status %d: %d PATCHes, want 3 refused and 1 accepted", status, seen.Load())
		}
		stored(t, info.URL, data)

		// Out of retries the status reaches the caller.
		seen.Store(-100)
		c = newClient(t, client.Config{Retry: &client.Retry{Attempts: 2, Base: time.Millisecond}})
		_, err = c.Upload(context.Background(), bytes.NewReader(data), int64(len(data)), client.UploadOptions{Endpoint: endpoint})
		var se *client.StatusError
		if !errors.As(err, &se) || se.Status != status {
			t.Fatalf("status %d without retries left: %v", status, err)
		}
	}
}

// flipReader returns other bytes on its first read of the first chunk than
// on any later one: the checksum (computed on the first pass) does not match
// what is sent, and the gateway must refuse it with 460.
type flipReader struct {
	r       io.ReaderAt
	mu      sync.Mutex
	flipped bool
}

func (f *flipReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := f.r.ReadAt(p, off)
	f.mu.Lock()
	defer f.mu.Unlock()
	if off == 0 && !f.flipped && n > 0 {
		f.flipped = true
		q := append([]byte(nil), p[:n]...)
		q[0] ^= 0xff
		copy(p, q)
	}
	return n, err
}

func TestChecksumMismatchIsRetried(t *testing.T) {
	var patches atomic.Int32
	endpoint := gatewayServer(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPatch {
				patches.Add(1)
			}
			next.ServeHTTP(w, r)
		})
	})
	data := randomBytes(t, 4096)
	c := newClient(t, client.Config{Checksum: "sha256"})
	info, err := c.Upload(context.Background(), &flipReader{r: bytes.NewReader(data)}, int64(len(data)), client.UploadOptions{Endpoint: endpoint})
	if err != nil {
		t.Fatalf("Upload: %v", err)
	}
	if patches.Load() != 2 {
		t.Errorf("%d PATCHes, want a refused one and its retry", patches.Load())
	}
	stored(t, info.URL, data)

	// With no retries the mismatch is reported as ErrChecksum.
	c = newClient(t, client.Config{Checksum: "sha256", Retry: &client.Retry{}})
	_, err = c.Upload(context.Background(), &flipReader{r: bytes.NewReader(data)}, int64(len(data)), client.UploadOptions{Endpoint: endpoint})
	if !errors.Is(err, client.ErrChecksum) {
		t.Fatalf("Upload without retries: %v, want ErrChecksum", err)
	}
}

func TestDiscoverAndUnsupported(t *testing.T) {
	endpoint := gatewayServer(t, nil)
	c := newClient(t, client.Config{Checksum: "sha512"})
	srv, err := c.Discover(context.Background(), endpoint)
	if err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{"creation", "creation-with-upload", "creation-defer-length", "checksum", "checksum-trailer", "termination", "concatenation"} {
		if !srv.Has(ext) {
			t.Errorf("gateway does not advertise %s: %v", ext, srv.Extensions)
		}
	}
	if _, err := client.New(client.Config{Checksum: "rot13"}); err == nil {
		t.Error("client.New accepted an unknown checksum algorithm")
	}
	// A server without extensions: the client says what is missing.
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Tus-Version", "1.0.0")
		w.Header().Set("Tus-Extension", "creation")
		w.WriteHeader(http.StatusNoContent)
	}))
	defer bare.Close()
	_, err = c.Upload(context.Background(), bytes.NewReader([]byte("x")), 1, client.UploadOptions{Endpoint: bare.URL})
	if !errors.Is(err, client.ErrUnsupported) {
		t.Fatalf("checksum on a server without it: %v, want ErrUnsupported", err)
	}
}

func TestContextCancelStops(t *testing.T) {
	endpoint := gatewayServer(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	c := newClient(t, client.Config{ChunkSize: 1024})
	data := randomBytes(t, 64<<10)
	var saved client.Resume
	_, err := c.Upload(ctx, bytes.NewReader(data), int64(len(data)), client.UploadOptions{
		Endpoint: endpoint,
		OnResume: func(r client.Resume) { saved = r },
		Progress: func(p client.Progress) {
			if p.Sent >= 8<<10 {
				cancel()
			}
		},
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Upload after cancel: %v, want context.Canceled", err)
	}
	info, err := c.Head(context.Background(), saved.URL)
	if err != nil || info.Offset == 0 || info.Complete() {
		t.Fatalf("after cancel: %+v, %v; want a partly stored upload", info, err)
	}
	got, err := c.Upload(context.Background(), bytes.NewReader(data), int64(len(data)), client.UploadOptions{Endpoint: endpoint, Resume: &saved})
	if err != nil {
		t.Fatal(err)
	}
	stored(t, got.URL, data)
}

func TestMetadataRoundTrip(t *testing.T) {
	meta := map[string]string{"filename": "a b,c.txt", "filetype": "text/plain", "empty": ""}
	h := client.EncodeMetadata(meta)
	got := client.DecodeMetadata(h)
	if len(got) != len(meta) {
		t.Fatalf("DecodeMetadata(%q) = %v", h, got)
	}
	for k, v := range meta {
		if got[k] != v {
			t.Errorf("%s: got %q want %q", k, got[k], v)
		}
	}
	if client.DecodeMetadata(" ,, x") == nil {
		t.Error("lenient parse dropped a bare key")
	}
}
