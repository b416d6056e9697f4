package ops

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

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

// samples is one scrape: "name{k="v",...}" (labels sorted) to value;
// families holds the names of every metric family exported.
type samples struct {
	values   map[string]float64
	families map[string]bool
}

func scrape(t *testing.T, metricsURL string) samples {
	t.Helper()
	res, err := http.Get(metricsURL)
	if err != nil {
		t.Fatalf("scrape %s: %v", metricsURL, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s: status %d", metricsURL, res.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("parse %s: %v", metricsURL, err)
	}
	s := samples{values: map[string]float64{}, families: map[string]bool{}}
	for name, f := range fams {
		s.families[name] = true
		for _, m := range f.GetMetric() {
			key := name + labelString(m.GetLabel())
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				s.values[key] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				s.values[key] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				s.values[name+"_count"+labelString(m.GetLabel())] = float64(m.GetHistogram().GetSampleCount())
			case dto.MetricType_UNTYPED:
				s.values[key] = m.GetUntyped().GetValue()
			}
		}
	}
	return s
}

func labelString(ls []*dto.LabelPair) string {
	if len(ls) == 0 {
		return ""
	}
	parts := make([]string, 0, len(ls))
	for _, l := range ls {
		parts = append(parts, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
	}
	sort.Strings(parts)
	return "{" + strings.Join(parts, ",") + "}"
}

// get is the value of key, 0 when absent (a labelled series not yet seen).
func (s samples) get(key string) float64 { return s.values[key] }

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

// stream is a PATCH whose body the test feeds: it sends first, then stays
// open until stop or abort.
type stream struct {
	pw   *io.PipeWriter
	done chan result
	// sent is closed once the first bytes are all in the pipe.
	sent chan struct{}
}

// end closes the body after the first bytes were all read by the server, so
// a PATCH that waits (for a buffer, a lock) is not cut short by the test.
func (s *stream) end() {
	<-s.sent
	_ = s.pw.Close()
}

type result struct {
	status int
	header http.Header
	err    error
}

func startStream(t *testing.T, url string, offset int64, first []byte, header http.Header) *stream {
	t.Helper()
	pr, pw := io.Pipe()
	req, err := e2e.NewRequest(context.Background(), http.MethodPatch, url, pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	req.Header.Set("Upload-Offset", strconv.FormatInt(offset, 10))
	for k, v := range header {
		req.Header[k] = v
	}
	s := &stream{pw: pw, done: make(chan result, 1), sent: make(chan struct{})}
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			s.done <- result{err: err}
			return
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		s.done <- result{status: res.StatusCode, header: res.Header}
	}()
	go func() {
		defer close(s.sent)
		_, _ = io.Copy(pw, bytes.NewReader(first))
	}()
	t.Cleanup(func() { _ = pw.CloseWithError(io.ErrUnexpectedEOF) })
	return s
}

func (s *stream) wait(t *testing.T) result {
	t.Helper()
	select {
	case r := <-s.done:
		return r
	case <-time.After(wait):
		t.Fatalf("the streaming PATCH got no response within %s", wait)
		return result{}
	}
}

func (s *stream) ended() bool {
	select {
	case r := <-s.done:
		s.done <- r
		return true
	default:
		return false
	}
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
		return scrape(t, metricsURL).get("tusgate_request_body_bytes_total") >= n
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
