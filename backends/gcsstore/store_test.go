package gcsstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"google.golang.org/api/googleapi"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/backends/bufpool"
	"github.com/tusgate/tusgate/state"
	"github.com/tusgate/tusgate/test/backendtest"
	"github.com/tusgate/tusgate/test/testenv"
)

func TestParseURL(t *testing.T) {
	c := backendtest.ParsesURL(t, ParseURL, "gs://b/some/prefix?part_size=16M&min_part_size=2MiB&concurrency=5&checksum=none&endpoint=http://h:1/storage/v1/")
	if c.Bucket != "b" || c.Prefix != "some/prefix/" || c.PartSize != 16*MiB || c.MinPartSize != 2*MiB ||
		c.Concurrency != 5 || c.Checksum != ChecksumNone || c.Endpoint != "http://h:1/storage/v1/" || c.MaxObjectSize != MaxObjectSize {
		t.Fatalf("%+v", c)
	}
	backendtest.RejectsURLs(t, ParseURL, "s3://b/", "gs:///p", "gs://b/?part_size=6TiB", "gs://b/?checksum=md5",
		"gs://b/?typo=1", "gs://b/?presign=200h", "gs://b/?max_object_size=6TiB")
}

func TestClassify(t *testing.T) {
	api := func(code int, retryAfter string) error {
		h := http.Header{}
		if retryAfter != "" {
			h.Set("Retry-After", retryAfter)
		}
		return &googleapi.Error{Code: code, Header: h}
	}
	cases := []struct {
		err   error
		kind  error
		after time.Duration
	}{
		{api(404, ""), backends.ErrNotFound, 0},
		{api(503, "7"), backends.ErrUnavailable, 7 * time.Second},
		{api(429, ""), backends.ErrUnavailable, throttleBackoff},
		{api(500, ""), backends.ErrUnavailable, 0},
		{api(413, ""), backends.ErrTooLarge, 0},
		{api(403, ""), nil, 0},
		{context.Canceled, nil, 0},
	}
	for _, c := range cases {
		backendtest.Classified(t, c.err, classify("Op", c.err), c.kind, c.after)
	}
}

// Every upload the engine accepts, deferred length included, fits the
// component cap: known lengths get parts of at least length/1024, deferred
// ones a doubling layout whose MaxComponents parts reach the largest
// object; and no part is larger than the buffer budget.
func TestSizingKeepsUploadsWithinComponentCap(t *testing.T) {
	for _, budget := range []int64{16 * MiB, 64 * MiB, 256 * MiB} {
		c, _ := Config{Bucket: "b"}.normalize()
		ec := c.engineConfig(min(c.MaxObjectSize, MaxComponents*budget))
		if err := ec.Check(); err != nil {
			t.Fatal(err)
		}
		for _, length := range []int64{0, 1, 8*MiB*MaxComponents + 1, ec.MaxObjectSize - 1, ec.MaxObjectSize} {
			l, err := ec.LayoutFor(length)
			if err != nil {
				t.Fatalf("budget %d, length %d: %v", budget, length, err)
			}
			if n := l.At(max(length-1, 0)).Num; n > MaxComponents || l.Part(1).Size > budget {
				t.Errorf("budget %d, length %d: %d parts of %d bytes", budget, length, n, l.Part(1).Size)
			}
		}
		if _, err := ec.LayoutFor(ec.MaxObjectSize + 1); !errors.Is(err, backends.ErrTooLarge) {
			t.Errorf("budget %d: one byte over the largest object: %v", budget, err)
		}
		l, err := ec.LayoutFor(-1)
		if err != nil {
			t.Fatal(err)
		}
		if l.Capacity() < ec.MaxObjectSize {
			t.Errorf("budget %d: deferred layout holds %d bytes in %d parts, want %d", budget, l.Capacity(), MaxComponents, ec.MaxObjectSize)
		}
	}
}

// commitAll writes data to a new upload in chunks of chunk bytes, as the
// gateway would, and finishes it.
func commitAll(t *testing.T, s *Store, u *state.Upload, data []byte, chunk int) {
	t.Helper()
	ctx := context.Background()
	hv, err := s.Create(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	u.Handle = hv
	var parts []state.Part
	commit := func(_ context.Context, ch backends.Progress) error {
		u.Apply(ch.Change())
		parts = append(parts, ch.Parts...)
		return nil
	}
	for off := 0; off < len(data); off += chunk {
		if err := s.Write(ctx, u.Clone(), bytes.NewReader(data[off:min(off+chunk, len(data))]), commit); err != nil {
			t.Fatal(err)
		}
		if u.Offset != int64(min(off+chunk, len(data))) {
			t.Fatalf("offset %d after writing to %d", u.Offset, min(off+chunk, len(data)))
		}
	}
	if err := s.Finish(ctx, u, parts); err != nil {
		t.Fatal(err)
	}
}

func readAll(t *testing.T, s *Store, u *state.Upload) []byte {
	t.Helper()
	r, err := s.NewRangeReader(context.Background(), u, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// An upload of exactly MaxComponents parts (4 KiB each, so more than one
// compose round: 32 intermediates of 32 parts) completes with the source's
// bytes and headers, and leaves only the object: no parts, intermediates
// or tails.
func TestMaxComponentsComposeInRounds(t *testing.T) {
	cfg := testConfig(t)
	cfg.MinPartSize, cfg.PartSize, cfg.Concurrency = 4<<10, 4<<10, 16
	s := newStore(t, cfg, nil)
	data := testenv.Source(MaxComponents*4<<10, 3)
	u := &state.Upload{ID: "rounds", Length: int64(len(data)), Metadata: "filetype dGV4dC9wbGFpbg==,filename YS50eHQ="}
	commitAll(t, s, u, data, len(data)/3+1)
	if got := readAll(t, s, u); !bytes.Equal(got, data) {
		t.Fatalf("object: %d bytes, want %d equal ones", len(got), len(data))
	}
	a, err := s.d.attrs(context.Background(), cfg.Prefix+"rounds")
	if err != nil {
		t.Fatal(err)
	}
	if a.ContentType != "text/plain" || a.ContentDisposition != `inline; filename=a.txt` || a.Metadata["filename"] != "a.txt" {
		t.Errorf("attrs: %q %q %v", a.ContentType, a.ContentDisposition, a.Metadata)
	}
	if names, _ := s.d.ListObjects(context.Background(), cfg.Prefix); len(names) != 1 {
		t.Fatalf("left under the prefix: %d objects (%.3v)", len(names), names)
	}
}

// Parts are objects under the upload's hidden prefix, each with the
// CRC32C of its bytes in the manifest; deleting an unfinished upload
// removes them and its tail.
func TestPartsAreHiddenObjectsRemovedByDelete(t *testing.T) {
	cfg := testConfig(t)
	s := newStore(t, cfg, nil)
	ctx := context.Background()
	u := &state.Upload{ID: "hidden", Length: 5*MiB + 3}
	hv, err := s.Create(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	u.Handle = hv
	var parts []state.Part
	data := testenv.Source(int(u.Length), 4)
	if err := s.Write(ctx, u.Clone(), bytes.NewReader(data[:3*MiB+10]), func(_ context.Context, ch backends.Progress) error {
		u.Apply(ch.Change())
		parts = append(parts, ch.Parts...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(parts) != 3 {
		t.Fatalf("%d parts committed, want 3", len(parts))
	}
	for _, p := range parts {
		if p.Checksum == "" || p.ETag == "" {
			t.Fatalf("part %d: generation %q, CRC32C %q", p.Number, p.ETag, p.Checksum)
		}
	}
	names, err := s.d.ListObjects(ctx, cfg.Prefix+"hidden"+PartsInfix)
	if err != nil || len(names) != 3 {
		t.Fatalf("part objects: %v, %v", names, err)
	}
	// What a refused compose is checked against: the part objects, with
	// the generations the manifest names.
	stored, err := s.d.StoredParts(ctx, s.HandleOf(u))
	backendtest.ListsParts(t, stored, err, parts)
	if err := s.Delete(ctx, u.Clone()); err != nil {
		t.Fatal(err)
	}
	if names, _ := s.d.ListObjects(ctx, cfg.Prefix); len(names) != 0 {
		t.Fatalf("left after delete: %v", names)
	}
	stored, err = s.d.StoredParts(ctx, s.HandleOf(u))
	backendtest.ListsParts(t, stored, err, nil)
}

// A missing bucket stops New with a message naming it.
func TestMissingBucket(t *testing.T) {
	cfg := testConfig(t)
	cfg.Bucket = "no-such-bucket"
	_, err := New(context.Background(), cfg, bufpool.New(MiB, 0), nil)
	if err == nil || !strings.Contains(err.Error(), `bucket "no-such-bucket" does not exist`) {
		t.Fatalf("New: %v", err)
	}
}

// countingHandler counts log records at info level and above.
type countingHandler struct {
	slog.Handler
	n *atomic.Int64
}

func (h countingHandler) Handle(context.Context, slog.Record) error    { h.n.Add(1); return nil }
func (h countingHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }
func (h countingHandler) WithAttrs([]slog.Attr) slog.Handler           { return h }

// Concatenation composes the partials inside the store (nothing logged
// about reassembling), and the engine's reassembly, used when partials
// have too many components, gives the same bytes.
func TestConcatComposesPartials(t *testing.T) {
	cfg := testConfig(t)
	var logged atomic.Int64
	s, err := New(context.Background(), cfg, bufpool.New(32*MiB, 0), slog.New(countingHandler{Handler: slog.DiscardHandler, n: &logged}))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	var partials []*state.Upload
	var want []byte
	for i, n := range []int{2*MiB + 5, 0, 3 * MiB, 7} {
		data := testenv.Source(n, uint64(i))
		u := &state.Upload{ID: "partial" + string(rune('0'+i)), Length: int64(n)}
		commitAll(t, s, u, data, MiB+100)
		partials = append(partials, u)
		want = append(want, data...)
	}
	before := logged.Load()
	for _, viaEngine := range []bool{false, true} {
		final := &state.Upload{ID: "final" + map[bool]string{false: "c", true: "e"}[viaEngine], Length: int64(len(want)),
			Partials: []string{"partial0", "partial1", "partial2", "partial3"}}
		hv, err := s.Create(ctx, final)
		if err != nil {
			t.Fatal(err)
		}
		final.Handle = hv
		concat := s.Concat
		if viaEngine {
			concat = s.Engine.Concat
		}
		if err := concat(ctx, final, partials); err != nil {
			t.Fatal(err)
		}
		if got := readAll(t, s, final); !bytes.Equal(got, want) {
			t.Fatalf("final (engine %v): %d bytes, want %d equal ones", viaEngine, len(got), len(want))
		}
		if names, _ := s.d.ListObjects(ctx, cfg.Prefix+final.ID+PartsInfix); !viaEngine && len(names) != 0 {
			t.Fatalf("composing left %v", names)
		}
	}
	if n := logged.Load() - before; n != 0 {
		t.Fatalf("%d log records: composing fell back to reassembling", n)
	}
}

// With a service-account key, GET can redirect to a signed URL, which the
// emulator serves.
func TestSignedURL(t *testing.T) {
	cfg := testConfig(t)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	sa, _ := json.Marshal(map[string]string{"type": "service_account", "client_email": "tusgate@test.iam.gserviceaccount.com",
		"private_key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))})
	cfg.SignKeyFile = filepath.Join(t.TempDir(), "sa.json")
	if err := os.WriteFile(cfg.SignKeyFile, sa, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.PresignTTL = time.Minute
	s := newStore(t, cfg, nil)
	if !s.Capabilities().PresignedDownload {
		t.Fatal("no signed downloads with a key file")
	}
	data := testenv.Source(MiB+1, 5)
	u := &state.Upload{ID: "signed", Length: int64(len(data))}
	commitAll(t, s, u, data, len(data))
	link, err := s.PresignGet(context.Background(), u, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(link, "X-Goog-Signature=") {
		t.Fatalf("URL %s is not signed", link)
	}
	res, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	got, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !bytes.Equal(got, data) {
		t.Fatalf("GET %s: %d, %d bytes", link, res.StatusCode, len(got))
	}
	// Without a key the emulator's anonymous credentials cannot sign.
	plain := newStore(t, testConfig(t), nil)
	if plain.Capabilities().PresignedDownload {
		t.Fatal("signed downloads offered without anything to sign with")
	}
}

func TestMetadataWithinLimit(t *testing.T) {
	big := map[string]string{"bad\xff": "x", "ctl\n": "y", "": "z", "ok": "r\u00e9sum\u00e9"}
	for i := range 100 {
		big["k"+string(rune('a'+i%26))+string(rune('a'+i/26))] = strings.Repeat("v", 200)
	}
	got := gcsMetadata(big)
	used := 0
	for k, v := range got {
		used += len(k) + len(v)
	}
	if used > maxMetadata || got["ok"] != "r\u00e9sum\u00e9" || len(got) < 30 {
		t.Fatalf("%d bytes in %d keys (ok=%q)", used, len(got), got["ok"])
	}
	for k := range got {
		if strings.Contains(k, "\n") || !utf8.ValidString(k) || k == "" {
			t.Fatalf("key %q kept", k)
		}
	}
}

// TestFinishAgainRemovesPartsACrashLeft: a replica that composed the
// object and died before deleting the part objects leaves them behind; the
// next Finish (any replica, since the record is not marked finished) finds
// the object assembled and removes them.
func TestFinishAgainRemovesPartsACrashLeft(t *testing.T) {
	cfg := testConfig(t)
	s := newStore(t, cfg, nil)
	ctx := context.Background()
	data := testenv.Source(3*int(cfg.MinPartSize)+5, 9)
	u := &state.Upload{ID: "crashed", Length: int64(len(data))}
	commitAll(t, s, u, data, len(data))
	key := s.HandleOf(u).Key
	for n := 1; n <= 3; n++ {
		w := s.d.obj(partName(key, n)).NewWriter(ctx)
		if _, err := w.Write([]byte("left behind")); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Finish(ctx, u, nil); err != nil {
		t.Fatal(err)
	}
	if names, err := s.d.ListObjects(ctx, partsPrefix(key)); err != nil || len(names) != 0 {
		t.Fatalf("part objects left after a second Finish: %v (%v)", names, err)
	}
	if got := readAll(t, s, u); !bytes.Equal(got, data) {
		t.Fatal("the object changed")
	}
}
