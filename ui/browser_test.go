package ui_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tusgate/tusgate/backends/filestore"
	"github.com/tusgate/tusgate/gateway"
	"github.com/tusgate/tusgate/state/boltstore"
	"github.com/tusgate/tusgate/test/testenv"
	"github.com/tusgate/tusgate/ui"
)

// chromiumPath finds Debian's chromium (TUSGATE_TEST_CHROMIUM overrides).
func chromiumPath(t *testing.T) string {
	t.Helper()
	return testenv.Binary(t, "TUSGATE_TEST_CHROMIUM", "chromium", "apt-get install chromium")
}

// holdPatches holds every PATCH at or past offset hold while armed, until
// the browser gives up on it, so the test can interrupt an upload mid-way.
type holdPatches struct {
	next  http.Handler
	hold  int64
	armed atomic.Bool
	held  chan struct{}
	once  sync.Once
}

func (h *holdPatches) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPatch && h.armed.Load() {
		if off, _ := strconv.ParseInt(r.Header.Get("Upload-Offset"), 10, 64); off >= h.hold {
			h.once.Do(func() { close(h.held) })
			_, _ = io.Copy(io.Discard, r.Body)
			<-r.Context().Done()
			return
		}
	}
	h.next.ServeHTTP(w, r)
}

// TestBrowserUpload opens the page in headless Chromium, uploads a file
// through Uppy's file input, interrupts it (pause) while the server holds
// it, sees it in the live list, sees the name of the replica holding its
// lock while the test holds it, resumes it and checks the stored bytes.
const replicaName = "tusgate-7f9c4-x2kq"

func TestBrowserUpload(t *testing.T) {
	chromium := chromiumPath(t)
	dir := t.TempDir()
	st, err := boltstore.Open(filepath.Join(dir, "state.db"), boltstore.Options{LeaseTTL: 3 * time.Second, InstanceName: replicaName})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	be, err := filestore.New(filepath.Join(dir, "data"), filestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New(gateway.Config{BasePath: "/files/", Expiration: time.Hour,
		Logger: slog.New(slog.DiscardHandler), Registerer: prometheus.NewRegistry()}, st, st, be)
	if err != nil {
		t.Fatal(err)
	}
	const size, chunk = 2 << 20, 256 << 10
	page, err := ui.New(ui.Config{Endpoint: "/files/", ChunkSize: chunk, Refresh: 200 * time.Millisecond}, st)
	if err != nil {
		t.Fatal(err)
	}
	hold := &holdPatches{next: gw, hold: size / 2, held: make(chan struct{})}
	hold.armed.Store(true)
	mux := http.NewServeMux()
	mux.Handle("/ui/", page)
	mux.Handle("/", hold)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	data := make([]byte, size)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "holiday.bin")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	actx, cancelA := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true))
	defer cancelA()
	bctx, cancelB := chromedp.NewContext(actx)
	defer cancelB()

	err = chromedp.Do(bctx,
		chromedp.EmulateViewport(1100, 900),
		chromedp.Navigate(srv.URL+"/ui/"),
		chromedp.WaitVisible(chromedp.CSS(".uppy-Dashboard")),
		chromedp.SetUploadFiles(chromedp.CSS("input.uppy-Dashboard-input"), []string{file}),
		chromedp.Click(chromedp.CSS(".uppy-StatusBar-actionBtn--upload")),
	)
	if err != nil {
		t.Fatalf("open the page and start the upload: %v", err)
	}
	select {
	case <-hold.held:
	case <-ctx.Done():
		t.Fatal("the upload never reached the held offset")
	}
	// Interrupt: Uppy aborts the request the server is holding.
	if _, err := chromedp.Run(bctx, chromedp.Evaluate[bool]("window.tusgateUppy.pauseAll(), true")); err != nil {
		t.Fatalf("pause: %v", err)
	}
	// The live list shows the interrupted upload with what the server has.
	want := strconv.Itoa(size/2/1024/1024) + ".0 MiB of 2.0 MiB"
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`[...document.querySelectorAll("#uploads tr")].some(r =>
		r.children[1].textContent === "holiday.bin" && r.children[2].textContent === `+strconv.Quote(want)+`)`,
		chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
		t.Fatalf("the live list never showed holiday.bin at %s: %v", want, err)
	}
	// Held by "this replica" (the store's instance name) while the test
	// holds the upload's lock, as a PATCH would.
	ups, err := st.Active(ctx, 10)
	if err != nil || len(ups) != 1 {
		t.Fatalf("active uploads: %d, %v; want the one being uploaded", len(ups), err)
	}
	lease, err := st.Lock(ctx, ups[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`[...document.querySelectorAll("#uploads tr")].some(r =>
		r.children[1].textContent === "holiday.bin" && r.children[4].textContent === `+strconv.Quote(replicaName)+`)`,
		chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
		t.Fatalf("the live list never showed holiday.bin locked by %s: %v", replicaName, err)
	}
	shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	shotPath := os.Getenv("TUSGATE_UI_SCREENSHOT")
	if shotPath == "" {
		shotPath = filepath.Join(t.TempDir(), "ui.png")
	}
	if err := os.WriteFile(shotPath, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", shotPath)

	if err := lease.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	hold.armed.Store(false)
	if _, err := chromedp.Run(bctx, chromedp.Evaluate[bool]("window.tusgateUppy.resumeAll(), true")); err != nil {
		t.Fatalf("resume: %v", err)
	}
	uploadURL, err := chromedp.Run(bctx, chromedp.Poll[string](`(() => {
		const f = window.tusgateUppy.getFiles()[0];
		return f && f.progress.uploadComplete && f.response && f.response.uploadURL;
	})()`, chromedp.WithPollingInterval(100*time.Millisecond)))
	if err != nil {
		t.Fatalf("the upload never completed: %v", err)
	}
	res, err := http.Get(uploadURL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	got, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", uploadURL, res.StatusCode, err)
	}
	if sha256.Sum256(got) != sha256.Sum256(data) || !bytes.Equal(got, data) {
		t.Fatalf("stored %d bytes differ from the %d uploaded", len(got), len(data))
	}
}
