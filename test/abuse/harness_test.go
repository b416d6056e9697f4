package abuse

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/redis/go-redis/v9"
	bolt "go.etcd.io/bbolt"

	"github.com/tusgate/tusgate/test/e2e"
	"github.com/tusgate/tusgate/test/testenv"
)

const (
	KiB = 1 << 10
	MiB = 1 << 20

	// deadline bounds every wait for something the server must do (cut a
	// connection, sweep an upload, answer). It is generous because the
	// machine is shared; it never times the server.
	deadline = 60 * time.Second

	offsetStream = "application/offset+octet-stream"
)

// ---------------------------------------------------------------------------
// A gateway on files and bbolt.

// fileEnv is a gateway on the embedded default: bytes under dir/data and
// the bbolt state in dir/state.db.
type fileEnv struct {
	dir string
	p   *e2e.Proc
}

func startFile(t *testing.T, extra ...string) *fileEnv {
	t.Helper()
	dir := t.TempDir()
	args := append([]string{
		"--store", "file://" + filepath.Join(dir, "data"),
		"--state", "bolt://" + filepath.Join(dir, "state.db"),
	}, extra...)
	return &fileEnv{dir: dir, p: e2e.Start(t, args...)}
}

func (f *fileEnv) statePath() string { return filepath.Join(f.dir, "state.db") }

// dataFiles returns the IDs of the upload files (<ID>.bin) under data/.
func (f *fileEnv) dataFiles(t *testing.T) []string {
	t.Helper()
	var ids []string
	err := filepath.WalkDir(filepath.Join(f.dir, "data"), func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed while walking, or not created yet
		}
		if err != nil {
			return err
		}
		if id, ok := strings.CutSuffix(d.Name(), ".bin"); ok && d.Type().IsRegular() {
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("list data files: %v", err)
	}
	return ids
}

// stop ends the server gracefully (in-flight handlers finish) and expects
// exit code 0.
func (f *fileEnv) stop(t *testing.T) {
	t.Helper()
	f.p.Term()
	if code := f.p.Wait(); code != 0 {
		t.Errorf("exit code after SIGTERM = %d, want 0", code)
	}
}

// restart starts the stopped server again on the same data and address.
func (f *fileEnv) restart(t *testing.T) {
	t.Helper()
	f.p = f.p.Restart()
}

// records returns the IDs of the upload records in the bbolt file. The
// server must be stopped (bbolt locks the file while it runs). It reads the
// "uploads" bucket directly: the state API cannot list finished records.
func (f *fileEnv) records(t *testing.T) []string {
	t.Helper()
	db, err := bolt.Open(f.statePath(), 0o600, &bolt.Options{ReadOnly: true, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("open %s: %v", f.statePath(), err)
	}
	defer db.Close()
	var ids []string
	err = db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("uploads"))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, _ []byte) error {
			ids = append(ids, string(k))
			return nil
		})
	})
	if err != nil {
		t.Fatalf("read %s: %v", f.statePath(), err)
	}
	return ids
}

// stateSize is the size of the bbolt file.
func (f *fileEnv) stateSize(t *testing.T) int64 {
	t.Helper()
	info, err := os.Stat(f.statePath())
	if err != nil {
		t.Fatal(err)
	}
	return info.Size()
}

// awaitEmpty waits until no data file and no record is left: files are
// watched while the server runs; then it is stopped and its records read.
// Records left at that point must be reachable: a restarted server has to
// remove them (their IDs answer 404) without help.
func (f *fileEnv) awaitEmpty(t *testing.T) {
	t.Helper()
	e2e.Eventually(t, deadline, "every data file to be removed", func() bool { return len(f.dataFiles(t)) == 0 })
	f.stop(t)
	left := f.records(t)
	if len(left) == 0 && len(f.dataFiles(t)) == 0 {
		return
	}
	t.Logf("%d records and %d files left when the server stopped; a restarted server must remove them", len(left), len(f.dataFiles(t)))
	f.restart(t)
	e2e.Eventually(t, deadline, "the sweeper to remove what was left", func() bool {
		return len(f.dataFiles(t)) == 0 && allGone(t, f.p.URL, left)
	})
	f.stop(t)
	if left := f.records(t); len(left) != 0 {
		t.Errorf("records left after the sweep: %v", left)
	}
	if files := f.dataFiles(t); len(files) != 0 {
		t.Errorf("data files left after the sweep: %v", files)
	}
}

// allGone reports whether HEAD answers 404 or 410 for every ID.
func allGone(t *testing.T, base string, ids []string) bool {
	t.Helper()
	for _, id := range ids {
		if !gone(e2e.Head(t, base+id).StatusCode) {
			return false
		}
	}
	return true
}

func gone(status int) bool { return status == http.StatusNotFound || status == http.StatusGone }

// ---------------------------------------------------------------------------
// A gateway on S3 (MinIO) and Redis.

// s3Env is a bucket prefix of one test and a Redis database of its own.
type s3Env struct {
	endpoint, bucket, prefix string
	redisURL                 string
	s3                       *s3.Client
	rdb                      *redis.Client
}

// newS3Env uses the shared MinIO and Redis database db, which it empties:
// each S3 test has its own database, so a gateway's sweeper never sees
// another test's records.
func newS3Env(t *testing.T, db int) *s3Env {
	t.Helper()
	endpoint, bucket := testenv.S3Endpoint(t)
	testenv.S3Credentials(t)
	u, err := url.Parse(testenv.RedisURL(t))
	if err != nil {
		t.Fatalf("TUSGATE_TEST_REDIS_URL: %v", err)
	}
	u.Path = "/" + strconv.Itoa(db)
	opts, err := redis.ParseURL(u.String())
	if err != nil {
		t.Fatalf("Redis URL %s: %v", u, err)
	}
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("us-east-1"))
	if err != nil {
		t.Fatalf("AWS configuration: %v", err)
	}
	e := &s3Env{
		endpoint: endpoint,
		bucket:   bucket,
		prefix:   "abuse/" + regexp.MustCompile(`[^A-Za-z0-9-]+`).ReplaceAllString(t.Name(), "_") + "-" + strings.ToLower(rand.Text()[:8]) + "/",
		redisURL: u.String(),
		s3: s3.NewFromConfig(cfg, func(o *s3.Options) {
			o.BaseEndpoint = aws.String(endpoint)
			o.UsePathStyle = true
			o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		}),
		rdb: redis.NewClient(opts),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.rdb.FlushDB(ctx).Err(); err != nil {
		t.Fatalf("FLUSHDB on %s: %v", e.redisURL, err)
	}
	t.Cleanup(func() { e.removeAll(); _ = e.rdb.Close() })
	return e
}

// start runs a gateway on the prefix and the database, extra flags appended.
func (e *s3Env) start(t *testing.T, extra ...string) *e2e.Proc {
	t.Helper()
	q := url.Values{"endpoint": {e.endpoint}, "path_style": {"true"}}
	args := append([]string{"--store", "s3://" + e.bucket + "/" + e.prefix + "?" + q.Encode(), "--state", e.redisURL}, extra...)
	var env []string
	if os.Getenv("AWS_REGION") == "" {
		env = append(env, "AWS_REGION=us-east-1")
	}
	return e2e.StartWith(t, e2e.Options{Env: env}, args...)
}

// objects lists the keys under the prefix.
func (e *s3Env) objects(t *testing.T) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var keys []string
	p := s3.NewListObjectsV2Paginator(e.s3, &s3.ListObjectsV2Input{Bucket: &e.bucket, Prefix: &e.prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListObjectsV2 %s: %v", e.prefix, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

// multipart lists the pending multipart uploads under the prefix as
// [key, UploadId] pairs.
func (e *s3Env) multipart(t *testing.T) [][2]string {
	t.Helper()
	ups, err := e.listMultipart()
	if err != nil {
		t.Fatalf("ListMultipartUploads: %v", err)
	}
	return ups
}

// listMultipart lists the whole bucket's multipart uploads and keeps those
// under the prefix: MinIO answers ListMultipartUploads with a Prefix only
// for an exact object key and returns nothing for a "directory" prefix.
func (e *s3Env) listMultipart() ([][2]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out [][2]string
	p := s3.NewListMultipartUploadsPaginator(e.s3, &s3.ListMultipartUploadsInput{Bucket: &e.bucket})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, u := range page.Uploads {
			if k := aws.ToString(u.Key); strings.HasPrefix(k, e.prefix) {
				out = append(out, [2]string{k, aws.ToString(u.UploadId)})
			}
		}
	}
	return out, nil
}

// records lists the upload records in the database (redisstore keeps one
// hash per upload at tusgate:{ID}:u).
func (e *s3Env) records(t *testing.T) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var ids []string
	it := e.rdb.Scan(ctx, 0, "tusgate:{*}:u", 1000).Iterator()
	for it.Next(ctx) {
		id := strings.TrimSuffix(strings.TrimPrefix(it.Val(), "tusgate:{"), "}:u")
		ids = append(ids, id)
	}
	if err := it.Err(); err != nil {
		t.Fatalf("SCAN %s: %v", e.redisURL, err)
	}
	return ids
}

// leftovers describes what is stored under the prefix and in the
// database; "" means nothing.
func (e *s3Env) leftovers(t *testing.T) string {
	t.Helper()
	var parts []string
	if k := e.objects(t); len(k) > 0 {
		parts = append(parts, fmt.Sprintf("%d objects %v", len(k), head(k)))
	}
	if m := e.multipart(t); len(m) > 0 {
		parts = append(parts, fmt.Sprintf("%d multipart uploads %v", len(m), head(m)))
	}
	if r := e.records(t); len(r) > 0 {
		parts = append(parts, fmt.Sprintf("%d records %v", len(r), head(r)))
	}
	return strings.Join(parts, "; ")
}

// awaitEmpty waits until nothing is stored, then stops the gateway (its
// in-flight handlers finish) and checks that nothing appeared meanwhile.
func (e *s3Env) awaitEmpty(t *testing.T, p *e2e.Proc) {
	t.Helper()
	left := ""
	end := time.Now().Add(deadline)
	for left = e.leftovers(t); left != "" && time.Now().Before(end); left = e.leftovers(t) {
		time.Sleep(200 * time.Millisecond)
	}
	if left != "" {
		t.Fatalf("after %s still stored: %s", deadline, left)
	}
	p.Term()
	if code := p.Wait(); code != 0 {
		t.Errorf("exit code after SIGTERM = %d, want 0", code)
	}
	if left := e.leftovers(t); left != "" {
		t.Errorf("stored after the gateway stopped: %s", left)
	}
}

// removeAll deletes what the test left under its prefix (after the verdict).
func (e *s3Env) removeAll() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p := s3.NewListObjectsV2Paginator(e.s3, &s3.ListObjectsV2Input{Bucket: &e.bucket, Prefix: &e.prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			break
		}
		for _, o := range page.Contents {
			_, _ = e.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &e.bucket, Key: o.Key})
		}
	}
	ups, _ := e.listMultipart()
	for _, u := range ups {
		_, _ = e.s3.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &e.bucket, Key: aws.String(u[0]), UploadId: aws.String(u[1])})
	}
	_ = e.rdb.FlushDB(ctx).Err()
}

// head is the start of a long list, for messages.
func head[T any](s []T) []T { return s[:min(len(s), 5)] }

// ---------------------------------------------------------------------------
// Requests through net/http.

// result is a response read to the end.
type result struct {
	status int
	header http.Header
	body   string
}

// hdr builds a header from name, value pairs; a name may repeat.
func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// send makes one request with the given headers (replacing the defaults of
// e2e.NewRequest) and reads the whole response. A nil body sends none.
func send(t *testing.T, method, target string, h http.Header, body []byte) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), e2e.RequestDeadline)
	defer cancel()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := e2e.NewRequest(ctx, method, target, r)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range h {
		req.Header.Del(k)
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if host := h.Get("Host"); host != "" {
		req.Host = host
	}
	res := e2e.Do(t, req)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, target, err)
	}
	return result{status: res.StatusCode, header: res.Header, body: string(b)}
}

// create makes an upload with creation-with-upload: Upload-Length is
// len(data) and data is the body (none when empty), extra headers added. It
// expects 201 with every byte taken and returns the upload's URL.
func create(t *testing.T, base string, data []byte, extra ...string) string {
	t.Helper()
	h := hdr(append([]string{"Upload-Length", strconv.Itoa(len(data))}, extra...)...)
	var body []byte
	if len(data) > 0 {
		h.Set("Content-Type", offsetStream)
		body = data
	}
	r := send(t, http.MethodPost, base, h, body)
	if r.status != http.StatusCreated || r.header.Get("Location") == "" {
		t.Fatalf("POST %s (%d bytes, %v): status %d, Location %q, want 201 with a Location: %s",
			base, len(data), extra, r.status, r.header.Get("Location"), r.body)
	}
	if got := r.header.Get("Upload-Offset"); got != strconv.Itoa(len(data)) {
		t.Fatalf("POST %s: Upload-Offset %q, want %d", base, got, len(data))
	}
	return r.header.Get("Location")
}

// idOf is the upload ID at the end of an upload URL.
func idOf(uploadURL string) string { return path.Base(uploadURL) }

// unknownID is a well-formed ID (32 lowercase hex) that names no upload.
func unknownID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// metadata encodes key, value pairs as Upload-Metadata.
func metadata(kv ...string) string {
	var pairs []string
	for i := 0; i+1 < len(kv); i += 2 {
		pairs = append(pairs, kv[i]+" "+base64.StdEncoding.EncodeToString([]byte(kv[i+1])))
	}
	return strings.Join(pairs, ",")
}

// randomText is n random URL-safe characters (valid in any header).
func randomText(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)[:n]
}

// basePath is the path part of a gateway's upload URL, e.g. /files/.
func basePath(t *testing.T, p *e2e.Proc) string {
	t.Helper()
	u, err := url.Parse(p.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Path
}

// ---------------------------------------------------------------------------
// Metrics.

// scrape returns the /metrics body.
func scrape(t *testing.T, p *e2e.Proc) string {
	t.Helper()
	return e2e.ScrapeText(t, e2e.MetricsURL(p))
}

// sample sums the values of metric name over all its series, with labels
// matching every "label=\"value\"" in match.
func sample(t *testing.T, body, name string, match ...string) float64 {
	t.Helper()
	return e2e.ParseMetrics(t, body).Sum(name, match...)
}

// created is tusgate_uploads_created_total.
func created(t *testing.T, p *e2e.Proc) float64 {
	t.Helper()
	return sample(t, scrape(t, p), "tusgate_uploads_created_total")
}

// ---------------------------------------------------------------------------
// Raw connections, for what net/http will not do: invented methods, no
// Host, a body that stops, a reset, a client that never reads.

type rawConn struct {
	t *testing.T
	*net.TCPConn
	br *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	return dialWith(t, addr, &net.Dialer{Timeout: 10 * time.Second})
}

// dialSmallWindow connects with a receive buffer of rcvbuf bytes, set before
// the handshake so the advertised window stays small.
func dialSmallWindow(t *testing.T, addr string, rcvbuf int) *rawConn {
	t.Helper()
	d := &net.Dialer{Timeout: 10 * time.Second, Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf)
		}); err != nil {
			return err
		}
		return serr
	}}
	return dialWith(t, addr, d)
}

func dialWith(t *testing.T, addr string, d *net.Dialer) *rawConn {
	t.Helper()
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &rawConn{t: t, TCPConn: c.(*net.TCPConn), br: bufio.NewReader(c)}
}

// request is a request head: the request line, Host (left out when host is
// "-"), Tus-Resumable, the given header lines and the blank line.
func request(method, target, host string, lines ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\n", method, target)
	if host != "-" {
		fmt.Fprintf(&b, "Host: %s\r\n", host)
	}
	b.WriteString("Tus-Resumable: 1.0.0\r\n")
	for _, l := range lines {
		b.WriteString(l + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// write sends b; a failure fails the test.
func (c *rawConn) write(b []byte) {
	c.t.Helper()
	if err := c.tryWrite(b); err != nil {
		c.t.Fatalf("write to %s: %v", c.RemoteAddr(), err)
	}
}

func (c *rawConn) tryWrite(b []byte) error {
	_ = c.SetWriteDeadline(time.Now().Add(deadline))
	_, err := c.Write(b)
	return err
}

// response reads one response (to a request with the given method) and
// its whole body.
func (c *rawConn) response(method string) result {
	c.t.Helper()
	r, err := c.tryResponse(method)
	if err != nil {
		c.t.Fatalf("read response from %s: %v", c.RemoteAddr(), err)
	}
	return r
}

func (c *rawConn) tryResponse(method string) (result, error) {
	_ = c.SetReadDeadline(time.Now().Add(deadline))
	res, err := http.ReadResponse(c.br, &http.Request{Method: method})
	if err != nil {
		return result{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	r := result{status: res.StatusCode, header: res.Header, body: string(b)}
	if err != nil {
		// The status and headers arrived; callers that expect the server
		// to drop the connection may still use them.
		return r, fmt.Errorf("read body of %d response: %w", res.StatusCode, err)
	}
	return r, nil
}

// interim reads the status line of an informational response (100
// Continue) and the blank line ending it.
func (c *rawConn) interim() string {
	c.t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(deadline))
	status, err := c.br.ReadString('\n')
	for line := status; err == nil && strings.TrimSpace(line) != ""; {
		line, err = c.br.ReadString('\n')
	}
	if err != nil {
		c.t.Fatalf("read interim response from %s: %v", c.RemoteAddr(), err)
	}
	return strings.TrimSpace(status)
}

// awaitClosed reads until the server ends the connection and returns how
// many bytes came before the end. A connection still open after the
// deadline fails the test.
func (c *rawConn) awaitClosed(what string) int64 {
	c.t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(deadline))
	n, err := io.Copy(io.Discard, c.br)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		c.t.Fatalf("%s: the server had not closed the connection after %s", what, deadline)
	}
	return n
}

// reset aborts the connection with a TCP RST (no FIN, unsent data dropped).
func (c *rawConn) reset() {
	_ = c.SetLinger(0)
	_ = c.Close()
}

// ---------------------------------------------------------------------------
// The process, through /proc.

// vmRSS is the resident set size of pid in bytes.
func vmRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			kb, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil || len(f) != 2 || f[1] != "kB" {
				t.Fatalf("VmRSS line %q", line)
			}
			return kb * KiB
		}
	}
	t.Fatalf("no VmRSS in /proc/%d/status", pid)
	return 0
}

// openFDs is the number of file descriptors pid has open.
func openFDs(t *testing.T, pid int) int {
	t.Helper()
	n := countFDs(pid)
	if n < 0 {
		t.Fatalf("cannot read /proc/%d/fd", pid)
	}
	return n
}

// countFDs is openFDs for other goroutines: -1 when /proc cannot be read.
func countFDs(pid int) int {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return -1
	}
	return len(fds)
}

// established reports whether the kernel has an ESTABLISHED TCP socket
// whose local end is local and remote end remote (IPv4, /proc/net/tcp).
// For the server's side of a client connection, local is the server's
// address and remote the client's.
func established(t *testing.T, local, remote net.Addr) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		t.Fatal(err)
	}
	want := [2]string{procAddr(t, local), procAddr(t, remote)}
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) > 3 && f[1] == want[0] && f[2] == want[1] {
			return f[3] == "01"
		}
	}
	return false
}

// procAddr formats an IPv4 address as /proc/net/tcp does: the address as a
// little-endian hex word, then the port.
func procAddr(t *testing.T, a net.Addr) string {
	t.Helper()
	ta, ok := a.(*net.TCPAddr)
	ip4 := ta.IP.To4()
	if !ok || ip4 == nil {
		t.Fatalf("not an IPv4 TCP address: %v", a)
	}
	return fmt.Sprintf("%02X%02X%02X%02X:%04X", ip4[3], ip4[2], ip4[1], ip4[0], ta.Port)
}

// errorLines are the ERROR-level lines of a server's log (text or JSON).
func errorLines(logs string) []string {
	var out []string
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, "level=ERROR") || strings.Contains(l, `"level":"ERROR"`) {
			out = append(out, l)
		}
	}
	return out
}

// containsFold reports whether the comma-separated header value list has
// name (case-insensitively).
func containsFold(list, name string) bool {
	return slices.ContainsFunc(strings.Split(list, ","), func(s string) bool {
		return strings.EqualFold(strings.TrimSpace(s), name)
	})
}
