package ops

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tusgate/tusgate/test/e2e"
	"github.com/tusgate/tusgate/test/testenv"
)

const (
	MiB = 1 << 20
	// wait bounds waits for events; generous because the machine is shared.
	wait = 60 * time.Second
)

// replicas starts n tusgate processes sharing a private Redis and one file
// directory; extra[i] are additional arguments for replica i.
func replicas(t *testing.T, n int, env [][]string, extra ...[]string) []*e2e.Proc {
	t.Helper()
	redis := testenv.StartRedis(t)
	files := filepath.Join(t.TempDir(), "files")
	var ps []*e2e.Proc
	for i := range n {
		args := []string{"--state", redis.URL, "--store", "file://" + files, "--lease-ttl", "30s"}
		if i < len(extra) {
			args = append(args, extra[i]...)
		}
		var opts e2e.Options
		if i < len(env) {
			opts.Env = env[i]
		}
		ps = append(ps, e2e.StartWith(t, opts, args...))
	}
	return ps
}

// at is upload u (a URL from any replica) on replica p.
func at(p *e2e.Proc, u string) string { return p.URL + path.Base(u) }

func origin(p *e2e.Proc) string { return strings.TrimSuffix(p.URL, "/files/") }

// metricsURL reads the address --metrics-listen logged.
var metricsLine = regexp.MustCompile(`msg="tusgate metrics serving" url=(\S+)`)

func metricsURL(t *testing.T, p *e2e.Proc) string {
	t.Helper()
	m := metricsLine.FindStringSubmatch(p.Logs())
	if m == nil {
		t.Fatalf("no metrics URL in the logs:\n%s", p.Logs())
	}
	return m[1]
}

func offsetOf(t *testing.T, h http.Header) int64 {
	t.Helper()
	n, err := strconv.ParseInt(h.Get("Upload-Offset"), 10, 64)
	if err != nil {
		t.Fatalf("Upload-Offset %q: %v", h.Get("Upload-Offset"), err)
	}
	return n
}

// awaitBodyBytes waits until replica metrics show at least n request body
// bytes read in total: the server has the bytes the stream sent.
func awaitBodyBytes(t *testing.T, metricsURL string, n float64) {
	t.Helper()
	e2e.Eventually(t, wait, fmt.Sprintf("%v body bytes read", n), func() bool {
		return e2e.Scrape(t, metricsURL).Get("tusgate_request_body_bytes_total") >= n
	})
}

func data(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

func sha(b []byte) [sha256.Size]byte { return sha256.Sum256(b) }
