// Package cli tests `tusgate upload` and `tusgate status` as a user runs
// them: the built binary against real servers (tusgate on files, tusgate as
// two replicas on S3 + Redis, and tusd v2.9.1), interrupted with SIGINT and
// run again to resume. The stored bytes are downloaded and compared.
package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tusgate/tusgate/test/e2e"
	"github.com/tusgate/tusgate/test/testenv"
)

func TestMain(m *testing.M) { os.Exit(e2e.Main(m)) }

const mib = 1 << 20

// gate is a reverse proxy in front of one or more servers (requests
// alternate between them, like a load balancer over replicas). While armed
// it holds every PATCH at or past offset hold until the client goes away,
// so a test can interrupt an upload at a known point.
type gate struct {
	srv     *httptest.Server
	targets []*url.URL
	next    atomic.Uint64
	armed   atomic.Bool
	hold    int64
	held    chan struct{}
	once    sync.Once
	patched atomic.Int64 // PATCH body bytes passed through
}

func newGate(t *testing.T, hold int64, targets ...string) *gate {
	t.Helper()
	g := &gate{hold: hold, held: make(chan struct{})}
	for _, s := range targets {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		// Requests keep their own path; only the origin is replaced.
		u.Path = ""
		g.targets = append(g.targets, u)
	}
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(g.targets[g.next.Add(1)%uint64(len(g.targets))])
		// Servers build upload URLs from Host: keep the proxy's.
		r.Out.Host = r.In.Host
		// Share the incoming trailer map (Clone copied it while still
		// empty): the server fills it at the body's end, just before the
		// transport sends the outgoing trailers.
		r.Out.Trailer = r.In.Trailer
	}}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPatch {
			off, _ := strconv.ParseInt(r.Header.Get("Upload-Offset"), 10, 64)
			if g.armed.Load() && off >= g.hold {
				g.once.Do(func() { close(g.held) })
				// The server notices a client that went away only once the
				// body has been read; then it cancels the context.
				_, _ = io.Copy(io.Discard, r.Body)
				<-r.Context().Done()
				return
			}
			r.Body = &counted{r: r.Body, n: &g.patched}
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(g.srv.Close)
	return g
}

type counted struct {
	r io.ReadCloser
	n *atomic.Int64
}

func (c *counted) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
func (c *counted) Close() error { return c.r.Close() }

// server is one deployment under test, reached through its gate.
type server struct {
	name string
	// base is the creation URL path on the servers, e.g. /files/.
	start func(t *testing.T) []string
	// checksum says whether the server offers the checksum extension.
	checksum bool
}

func servers() []server {
	return []server{
		{name: "tusgate_file", checksum: true, start: func(t *testing.T) []string {
			return []string{e2e.Start(t, "--store", "file://"+filepath.Join(t.TempDir(), "data")).URL}
		}},
		{name: "tusgate_s3_two_replicas_redis", checksum: true, start: startS3Replicas},
		{name: "tusd_v2.9.1", start: startTusd},
	}
}

func startS3Replicas(t *testing.T) []string {
	t.Helper()
	redisURL := testenv.RedisURL(t)
	endpoint, bucket := testenv.S3Endpoint(t)
	prefix := "cli-" + strings.ToLower(rand.Text()[:10])
	u, err := url.Parse(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	// Upload IDs are random, so a database of its own is isolation enough.
	u.Path = "/11"
	store := fmt.Sprintf("s3://%s/%s/?endpoint=%s&path_style=true&min_part_size=5MiB&part_size=5MiB",
		bucket, prefix, url.QueryEscape(endpoint))
	var env []string
	if os.Getenv("AWS_REGION") == "" {
		env = append(env, "AWS_REGION=us-east-1")
	}
	var urls []string
	for range 2 {
		p := e2e.StartWith(t, e2e.Options{Env: env}, "--store", store, "--state", u.String())
		urls = append(urls, p.URL)
	}
	return urls
}

func startTusd(t *testing.T) []string {
	t.Helper()
	return []string{testenv.StartTusd(t)}
}

// run is one `tusgate` client invocation.
type run struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	done           chan struct{}
	code           int
}

func startCLI(t *testing.T, args ...string) *run {
	t.Helper()
	r := &run{done: make(chan struct{})}
	r.cmd = exec.Command(e2e.Binary(), args...)
	r.cmd.Stdout, r.cmd.Stderr = &r.stdout, &r.stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("start tusgate %v: %v", args, err)
	}
	go func() {
		_ = r.cmd.Wait()
		r.code = r.cmd.ProcessState.ExitCode()
		close(r.done)
	}()
	t.Cleanup(func() {
		_ = r.cmd.Process.Kill()
		<-r.done
	})
	return r
}

func (r *run) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(5 * time.Minute):
		t.Fatalf("tusgate %v did not exit; stderr:\n%s", r.cmd.Args, r.stderr.String())
	}
	return r.code
}

func cli(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	r := startCLI(t, args...)
	code = r.wait(t)
	return code, r.stdout.String(), r.stderr.String()
}

var doneLine = regexp.MustCompile(`(?m)^(\S+)  (.+)  sha256:([0-9a-f]{64})$`)

// result parses the final line of a successful upload.
func result(t *testing.T, stdout, stderr string) (uploadURL, sum string) {
	t.Helper()
	m := doneLine.FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no result line in stdout %q; stderr:\n%s", stdout, stderr)
	}
	return m[1], m[3]
}

func writeFile(t *testing.T, size int) (path, sum string) {
	t.Helper()
	b := make([]byte, size)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(t.TempDir(), "data.bin")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(b)
	return path, hex.EncodeToString(h[:])
}

// storedSHA256 downloads an upload and hashes what the server stored.
func storedSHA256(t *testing.T, u string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), e2e.RequestDeadline)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	req.Header.Set("Tus-Resumable", "1.0.0")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d", u, res.StatusCode)
	}
	h := sha256.New()
	if _, err := io.Copy(h, res.Body); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestUploadCLI(t *testing.T) {
	for _, s := range servers() {
		t.Run(s.name, func(t *testing.T) {
			targets := s.start(t)
			t.Run("upload", func(t *testing.T) { testUpload(t, s, targets) })
			t.Run("interrupted_then_resumed", func(t *testing.T) { testResume(t, targets, 1) })
			t.Run("parallel_interrupted_then_resumed", func(t *testing.T) { testResume(t, targets, 3) })
			t.Run("checksum", func(t *testing.T) { testChecksum(t, s, targets) })
		})
	}
}

func baseArgs(t *testing.T, g *gate, extra ...string) []string {
	return append([]string{"upload", "--endpoint", g.srv.URL + "/files/",
		"--resume-file", filepath.Join(t.TempDir(), "resume.json"), "--progress-interval", "50ms"}, extra...)
}

func testUpload(t *testing.T, s server, targets []string) {
	g := newGate(t, 0, targets...)
	path, sum := writeFile(t, 3*mib+123)
	code, stdout, stderr := cli(t, append(baseArgs(t, g, "--chunk-size", "1MiB", "--meta", "project=demo"), path)...)
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	u, printed := result(t, stdout, stderr)
	if printed != sum {
		t.Errorf("printed sha256 %s, file has %s", printed, sum)
	}
	if got := storedSHA256(t, u); got != sum {
		t.Errorf("stored sha256 %s, want %s", got, sum)
	}
	if !strings.Contains(stderr, "(100.0%)") {
		t.Errorf("no final progress line on stderr:\n%s", stderr)
	}

	// status reports the finished upload and its metadata.
	code, stdout, stderr = cli(t, "status", u)
	if code != 0 {
		t.Fatalf("status: exit %d; stderr:\n%s", code, stderr)
	}
	for _, want := range []string{"offset:   " + strconv.Itoa(3*mib+123), "state:    complete",
		`metadata: filename="data.bin"`, `metadata: filetype="application/octet-stream"`, `metadata: project="demo"`} {
		if !strings.Contains(stdout, want) {
			t.Errorf("status output lacks %q:\n%s", want, stdout)
		}
	}
	code, stdout, _ = cli(t, "status", "--json", u)
	if code != 0 || !strings.Contains(stdout, `"complete":true`) {
		t.Errorf("status --json: exit %d, %s", code, stdout)
	}

	// --json prints machine-readable lines, ending with the result.
	code, stdout, stderr = cli(t, append(baseArgs(t, g, "--json"), path)...)
	if code != 0 || !strings.Contains(stdout, `"event":"done"`) || !strings.Contains(stdout, `"sha256":"`+sum+`"`) {
		t.Errorf("--json: exit %d, stdout %s, stderr %s", code, stdout, stderr)
	}
}

func testResume(t *testing.T, targets []string, parallel int) {
	const size = 12 * mib
	g := newGate(t, 2*mib, targets...)
	path, sum := writeFile(t, size)
	args := append(baseArgs(t, g, "--chunk-size", "512KiB", "--parallel", strconv.Itoa(parallel)), path)

	g.armed.Store(true)
	first := startCLI(t, args...)
	select {
	case <-g.held:
	case <-first.done:
		t.Fatalf("first run exited (%d) before reaching the held offset; stderr:\n%s", first.code, first.stderr.String())
	}
	// Ctrl-C: the run stops and leaves a resumable upload.
	if err := first.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := first.wait(t); code != 130 {
		t.Fatalf("interrupted run exited %d, want 130; stderr:\n%s", code, first.stderr.String())
	}
	if !strings.Contains(first.stderr.String(), "interrupted") {
		t.Errorf("interrupted run did not say so:\n%s", first.stderr.String())
	}
	g.armed.Store(false)
	before := g.patched.Load()

	code, stdout, stderr := cli(t, args...)
	if code != 0 {
		t.Fatalf("second run: exit %d; stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "resuming") {
		t.Errorf("second run did not resume:\n%s", stderr)
	}
	// Resuming means the bytes the server already had are not sent again.
	if sent := g.patched.Load() - before; sent > size-2*mib {
		t.Errorf("second run sent %d bytes; the server held at least 2 MiB of %d", sent, size)
	}
	u, printed := result(t, stdout, stderr)
	if printed != sum {
		t.Errorf("printed sha256 %s, file has %s", printed, sum)
	}
	if got := storedSHA256(t, u); got != sum {
		t.Errorf("stored sha256 %s, want %s", got, sum)
	}
}

func testChecksum(t *testing.T, s server, targets []string) {
	g := newGate(t, 0, targets...)
	path, sum := writeFile(t, 2*mib+7)
	for _, mode := range [][]string{{"--checksum", "sha256"}, {"--checksum", "crc32", "--checksum-trailer"}} {
		code, stdout, stderr := cli(t, append(baseArgs(t, g, append([]string{"--chunk-size", "1MiB"}, mode...)...), path)...)
		if !s.checksum {
			// tusd offers no checksum extension: the client refuses
			// instead of sending unverified bytes it was asked to verify.
			if code != 1 || !strings.Contains(stderr, "not supported by the server: checksum") {
				t.Errorf("%v on a server without checksums: exit %d, stderr %s", mode, code, stderr)
			}
			continue
		}
		if code != 0 {
			t.Fatalf("%v: exit %d; stderr:\n%s", mode, code, stderr)
		}
		u, _ := result(t, stdout, stderr)
		if got := storedSHA256(t, u); got != sum {
			t.Errorf("%v: stored sha256 %s, want %s", mode, got, sum)
		}
	}
}
