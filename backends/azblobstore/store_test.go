package azblobstore

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/backends/bufpool"
	"github.com/tusgate/tusgate/state"
	"github.com/tusgate/tusgate/test/backendtest"
)

// Block ids of one blob must all have the same length.
func TestBlockIDsHaveEqualLength(t *testing.T) {
	want := len(blockID(1))
	seen := map[string]bool{}
	for _, n := range []int{1, 2, 9, 10, 999, 10000, 49999, MaxBlocks} {
		id := blockID(n)
		if len(id) != want || seen[id] {
			t.Fatalf("block id of part %d: %q (length %d, want %d, seen %v)", n, id, len(id), want, seen[id])
		}
		if _, err := base64.StdEncoding.DecodeString(id); err != nil {
			t.Fatalf("block id %q is not base64: %v", id, err)
		}
		seen[id] = true
	}
}

func TestMetadataFollowsAzureRules(t *testing.T) {
	got := azureMetadata(map[string]string{
		"filename": "r\u00e9sum\u00e9.pdf", "Content-Type": "x", "1st": "a", "bad\xff": "b",
		"bin": "\xff\xfe", "": "empty", "---": "only dashes",
	})
	want := map[string]string{"filename": "=?utf-8?q?r=C3=A9sum=C3=A9.pdf?=", "content_type": "x", "_1st": "a", "bad": "b"}
	if len(got) != len(want) {
		t.Fatalf("metadata %v, want %v", deref(got), want)
	}
	for k, v := range want {
		if got[k] == nil || *got[k] != v {
			t.Errorf("%s = %v, want %q", k, deref(got), v)
		}
	}
	big := map[string]string{}
	for i := range 100 {
		big["k"+string(rune('a'+i%26))+string(rune('a'+i/26))] = string(bytes.Repeat([]byte("v"), 200))
	}
	used := 0
	for k, v := range azureMetadata(big) {
		used += len(k) + len(*v)
	}
	if used > maxMetadata {
		t.Fatalf("%d bytes of metadata, limit %d", used, maxMetadata)
	}
}

func deref(m map[string]*string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = *v
	}
	return out
}

func TestClassify(t *testing.T) {
	resp := func(status int, code, retryAfter string) error {
		h := http.Header{}
		h.Set("x-ms-error-code", code)
		if retryAfter != "" {
			h.Set("Retry-After", retryAfter)
		}
		return runtime.NewResponseError(&http.Response{StatusCode: status, Header: h, Request: &http.Request{URL: &url.URL{}}})
	}
	cases := []struct {
		err   error
		kind  error
		after time.Duration
	}{
		{resp(404, "BlobNotFound", ""), backends.ErrNotFound, 0},
		{resp(503, "ServerBusy", "7"), backends.ErrUnavailable, 7 * time.Second},
		{resp(429, "", ""), backends.ErrUnavailable, throttleBackoff},
		{resp(500, "InternalError", ""), backends.ErrUnavailable, 0},
		{resp(413, "RequestBodyTooLarge", ""), backends.ErrTooLarge, 0},
		{resp(404, "ContainerNotFound", ""), nil, 0},
		{resp(403, "AuthorizationFailure", ""), nil, 0},
	}
	for _, c := range cases {
		backendtest.Classified(t, c.err, classify("Op", c.err), c.kind, c.after)
	}
}

func TestParseURL(t *testing.T) {
	c := backendtest.ParsesURL(t, ParseURL, "azblob://c/some/prefix?part_size=16M&min_part_size=2MiB&concurrency=5&checksum=md5&endpoint=http://h:1/acct")
	if c.Container != "c" || c.Prefix != "some/prefix/" || c.PartSize != 16*MiB || c.MinPartSize != 2*MiB ||
		c.Concurrency != 5 || c.Checksum != ChecksumMD5 || c.Endpoint != "http://h:1/acct" || c.MaxObjectSize != MaxObjectSize {
		t.Fatalf("%+v", c)
	}
	backendtest.RejectsURLs(t, ParseURL, "s3://c/", "azblob:///p", "azblob://c/?part_size=5000MiB", "azblob://c/?checksum=crc",
		"azblob://c/?typo=1", "azblob://c/?presign=200h", "azblob://c/?max_object_size=200TiB")
}

// A missing container stops New with a message naming it.
func TestMissingContainer(t *testing.T) {
	cfg := testConfig(t)
	cfg.Container = "no-such-container"
	_, err := New(context.Background(), cfg, bufpool.New(MiB, 0), nil)
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte(`container "no-such-container" does not exist`)) {
		t.Fatalf("New: %v", err)
	}
}

// The blob of a finished upload has no uncommitted blocks left, and a
// deleted unfinished upload leaves neither blob nor staged blocks.
func TestStagedBlocksAreDropped(t *testing.T) {
	cfg := testConfig(t)
	cfg.Checksum = ChecksumMD5
	s := newStore(t, cfg, nil)
	ctx := context.Background()
	u := &state.Upload{ID: "staged", Length: 5*MiB + 3, Metadata: "filetype dGV4dC9wbGFpbg=="}
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
	data := bytes.Repeat([]byte("tusgate!"), (5*MiB+3)/8+1)[:5*MiB+3]
	if err := s.Write(ctx, u.Clone(), bytes.NewReader(data[:3*MiB+10]), commit); err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		if p.Checksum == "" {
			t.Fatalf("part %d without MD5", p.Number)
		}
	}
	bl, err := s.d.blob(cfg.Prefix+"staged").GetBlockList(ctx, blockblob.BlockListTypeUncommitted, nil)
	if err != nil || len(bl.UncommittedBlocks) != 3 {
		t.Fatalf("uncommitted blocks after 3 MiB: %v, %v", len(bl.UncommittedBlocks), err)
	}
	// What a refused commit is checked against: the staged blocks, as the
	// manifest names them.
	stored, err := s.d.StoredParts(ctx, s.HandleOf(u))
	backendtest.ListsParts(t, stored, err, parts)
	if err := s.Delete(ctx, u.Clone()); err != nil {
		t.Fatal(err)
	}
	if names, _ := s.d.ListObjects(ctx, cfg.Prefix); len(names) != 0 {
		t.Fatalf("left after delete: %v", names)
	}
	if _, err := s.d.blob(cfg.Prefix+"staged").GetBlockList(ctx, blockblob.BlockListTypeAll, nil); !isNotFound(classify("GetBlockList", err)) {
		t.Fatalf("block list after delete: %v", err)
	}
	stored, err = s.d.StoredParts(ctx, s.HandleOf(u))
	backendtest.ListsParts(t, stored, err, nil)
}

func TestCapabilities(t *testing.T) {
	s := newStore(t, testConfig(t), nil)
	c := s.Capabilities()
	if !c.Concatenation || !c.DeferredLength || !c.ServerSideCopy || !c.PresignedDownload ||
		c.MaxParts != MaxBlocks || c.MaxPartSize != MaxBlockSize || c.MaxUploadAge != UncommittedLifetime {
		t.Fatalf("%+v", c)
	}
}

// countingHandler counts log records at warning level.
type countingHandler struct {
	slog.Handler
	warns *atomic.Int64
}

func (h countingHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		h.warns.Add(1)
	}
	return nil
}

func (h countingHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }

// Concatenation on Azurite 3.37.0 copies inside the service (Put Block
// From URL) without falling back, and the final blob has the partials'
// bytes in order.
func TestConcatCopiesServerSide(t *testing.T) {
	cfg := testConfig(t)
	var warns atomic.Int64
	log := slog.New(countingHandler{Handler: slog.DiscardHandler, warns: &warns})
	s, err := New(context.Background(), cfg, bufpool.New(32*MiB, 0), log)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var partials []*state.Upload
	var want []byte
	for i, n := range []int{2*MiB + 5, 3 * MiB} {
		data := bytes.Repeat([]byte{byte('a' + i)}, n)
		u := &state.Upload{ID: "partial" + string(rune('0'+i)), Length: int64(n)}
		hv, err := s.Create(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		u.Handle = hv
		var parts []state.Part
		if err := s.Write(ctx, u.Clone(), bytes.NewReader(data), func(_ context.Context, ch backends.Progress) error {
			u.Apply(ch.Change())
			parts = append(parts, ch.Parts...)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := s.Finish(ctx, u, parts); err != nil {
			t.Fatal(err)
		}
		partials = append(partials, u)
		want = append(want, data...)
	}
	final := &state.Upload{ID: "final", Length: int64(len(want)), Partials: []string{"partial0", "partial1"}}
	hv, err := s.Create(ctx, final)
	if err != nil {
		t.Fatal(err)
	}
	final.Handle = hv
	if err := s.Concat(ctx, final, partials); err != nil {
		t.Fatal(err)
	}
	if n := warns.Load(); n != 0 {
		t.Fatalf("%d warnings: server-side copy fell back to streaming", n)
	}
	r, err := s.NewRangeReader(ctx, final, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("final blob: %d bytes (%v), want %d", len(got), err, len(want))
	}
}

// Hook events name the blob with tusd's azurestore keys.
func TestStorageInfoNamesContainerAndKey(t *testing.T) {
	cfg := testConfig(t)
	s := newStore(t, cfg, nil)
	u := &state.Upload{ID: "storageinfo1", Length: 3}
	h, err := s.Create(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	u.Handle = h
	info := s.StorageInfo(u)
	if info["Type"] != "azurestore" || info["Container"] != cfg.Container || info["Key"] != cfg.Prefix+"storageinfo1" || len(info) != 3 {
		t.Fatalf("StorageInfo = %v, want azurestore, container %q, key %q", info, cfg.Container, cfg.Prefix+"storageinfo1")
	}
}
