package e2e

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"net/url"
	"path"
	"regexp"
	"strings"
	"testing"

	"github.com/tusgate/tusgate/state"
	"github.com/tusgate/tusgate/test/testenv"
)

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9-]+`)

// KeyPrefix is a key prefix of t's own under pkg, "pkg/<test name>-<random>/",
// so tests sharing a bucket or container never see each other's objects.
func KeyPrefix(t testing.TB, pkg string) string {
	return fmt.Sprintf("%s/%s-%s/", pkg, unsafeChars.ReplaceAllString(t.Name(), "_"), strings.ToLower(rand.Text()[:8]))
}

// RedisDB is the test Redis (testenv.RedisURL) with database db: each
// package keeps its state apart from other packages' tests.
func RedisDB(t testing.TB, db string) string {
	t.Helper()
	u, err := url.Parse(testenv.RedisURL(t))
	if err != nil {
		t.Fatalf("TUSGATE_TEST_REDIS_URL: %v", err)
	}
	u.Path = "/" + db
	return u.String()
}

// On is uploadURL (from any replica) as served by p.
func (p *Proc) On(uploadURL string) string { return p.URL + path.Base(uploadURL) }

// CheckDownload fails the test unless a GET of uploadURL through the
// gateway serves exactly data.
func CheckDownload(t testing.TB, uploadURL string, data []byte) {
	t.Helper()
	want := sha256.Sum256(data)
	sum, n := DownloadSHA256(t, uploadURL)
	if n != int64(len(data)) || sum != want {
		t.Fatalf("GET through the gateway: %d bytes with SHA-256 %x, want %d bytes with %x", n, sum, len(data), want)
	}
}

// CheckReader fails the test unless r (a stored object, named by what)
// holds exactly data.
func CheckReader(t testing.TB, what string, r io.Reader, data []byte) {
	t.Helper()
	want := sha256.Sum256(data)
	h := sha256.New()
	got, err := io.Copy(h, r)
	if err != nil || got != int64(len(data)) || [sha256.Size]byte(h.Sum(nil)) != want {
		t.Fatalf("%s: %d bytes with SHA-256 %x (%v), want %d bytes with %x", what, got, h.Sum(nil), err, len(data), want)
	}
}

// Takeover is the start of the tests that SIGKILL a replica mid-PATCH: two
// replicas A and B on one store and state, with leases of 2 s so B can
// take over soon after A dies, a reader of that state, and an upload
// created on A with the bytes Data.
type Takeover struct {
	A, B  *Proc
	State state.Store
	URL   string
	Data  []byte
}

// StartTakeover starts A and B with start, opens the state at redisURL and
// creates an upload of size bytes of source data seeded with seed on A.
func StartTakeover(t *testing.T, start func(*testing.T, ...string) *Proc, redisURL string, size int, seed uint64) Takeover {
	t.Helper()
	k := Takeover{A: start(t, "--lease-ttl", "2s"), B: start(t, "--lease-ttl", "2s"), State: StateReader(t, redisURL)}
	k.URL = Create(t, k.A.URL, int64(size), nil)
	k.Data = testenv.Source(size, seed)
	return k
}

// OffsetOnB is the offset B reports after A died, which must lie between
// what A had committed and what the client sent.
func (k Takeover) OffsetOnB(t *testing.T, committed, sent int64) int64 {
	t.Helper()
	offset := Offset(t, k.B.On(k.URL))
	t.Logf("A committed %d before SIGKILL; client sent %d; B reports %d", committed, sent, offset)
	if offset < committed || offset > sent {
		t.Fatalf("B's offset %d is outside [%d committed, %d sent]", offset, committed, sent)
	}
	return offset
}

// AwaitCommitted is AwaitCommitted on the takeover's upload and state.
func (k Takeover) AwaitCommitted(t *testing.T, n int64, check func()) int64 {
	t.Helper()
	return AwaitCommitted(t, k.State, k.URL, n, check)
}
