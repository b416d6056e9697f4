package s3store

import (
	"bytes"
	"context"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/backends/bufpool"
	"github.com/tusgate/tusgate/backends/multipart"
	"github.com/tusgate/tusgate/state"
	"github.com/tusgate/tusgate/test/backendtest"
	"github.com/tusgate/tusgate/test/testenv"
)

// testConfig returns a Config on the test bucket with a prefix of its own,
// removed (objects and pending multipart uploads) when the test ends.
func testConfig(t *testing.T) Config {
	t.Helper()
	endpoint, bucket := testenv.S3Endpoint(t)
	cfg := Config{
		Bucket:       bucket,
		Prefix:       backendtest.Prefix(t),
		Endpoint:     endpoint,
		Region:       "us-east-1",
		PathStyle:    true,
		StoreOptions: multipart.StoreOptions{MinPartSize: 5 * MiB, PartSize: 5 * MiB},
	}
	backendtest.Sweep(t, New, cfg, func(ctx context.Context, s *Store) error {
		for _, k := range listKeys(t, s) {
			_ = s.d.DeleteObject(ctx, k)
		}
		ups, err := s.d.client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &cfg.Bucket, Prefix: &cfg.Prefix})
		if err != nil {
			return err
		}
		for _, u := range ups.Uploads {
			_ = s.d.Abort(ctx, handle{Key: aws.ToString(u.Key), UploadID: aws.ToString(u.UploadId)})
		}
		return nil
	})
	return cfg
}

func listKeys(t *testing.T, s *Store) []string {
	t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.d.client, &s3.ListObjectsV2Input{Bucket: &s.d.cfg.Bucket, Prefix: &s.d.cfg.Prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("list %s: %v", s.d.cfg.Prefix, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

func newStore(t *testing.T, cfg Config, pool *bufpool.Pool) *Store {
	t.Helper()
	return backendtest.Open(t, New, cfg, pool, 64*MiB)
}

func getObject(t *testing.T, s *Store, key string) []byte {
	t.Helper()
	out, err := s.d.client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &s.d.cfg.Bucket, Key: &key})
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func randomBytes(seed uint64, n int) []byte {
	b := make([]byte, n)
	var key [32]byte
	key[0] = byte(seed)
	_, _ = mrand.NewChaCha8(key).Read(b)
	return b
}

// memUpload is a minimal state store for one upload: it applies commits the
// way a real store does and keeps the manifest.
type memUpload struct {
	mu      sync.Mutex
	rec     *state.Upload
	parts   map[int]state.Part
	commits int
	// fail, when set, decides the error of the n-th commit (1-based).
	fail func(n int, ch backends.Progress) error
}

func newMemUpload(t *testing.T, s *Store, id string, length int64, metadata string) *memUpload {
	t.Helper()
	return createMemUpload(t, s, &state.Upload{ID: id, Length: length, Metadata: metadata})
}

// newFinalUpload creates a final concatenation of partials, which the
// gateway creates with its partials listed.
func newFinalUpload(t *testing.T, s *Store, id string, length int64, partials []*state.Upload) *memUpload {
	t.Helper()
	rec := &state.Upload{ID: id, Length: length}
	for _, p := range partials {
		rec.Partials = append(rec.Partials, p.ID)
	}
	return createMemUpload(t, s, rec)
}

func createMemUpload(t *testing.T, s *Store, rec *state.Upload) *memUpload {
	t.Helper()
	id := rec.ID
	h, err := s.Create(context.Background(), rec)
	if err != nil {
		t.Fatalf("create %s: %v", id, err)
	}
	rec.Handle = h
	return &memUpload{rec: rec, parts: map[int]state.Part{}}
}

// declareLength does what the gateway does when a deferred length becomes
// known (a backend cannot commit a length).
func (m *memUpload) declareLength(length int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rec.Apply(state.Change{Offset: m.rec.Offset, Length: &length})
}

func (m *memUpload) commit(_ context.Context, ch backends.Progress) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.commits++
	if m.fail != nil {
		if err := m.fail(m.commits, ch); err != nil {
			return err
		}
	}
	if ch.Offset < m.rec.Offset {
		return fmt.Errorf("commit moves offset back from %d to %d: %w", m.rec.Offset, ch.Offset, state.ErrConflict)
	}
	m.rec.Apply(ch.Change())
	for _, p := range ch.Parts {
		m.parts[p.Number] = p
	}
	return nil
}

func (m *memUpload) get() *state.Upload {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rec.Clone()
}

func (m *memUpload) manifest() []state.Part {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ps []state.Part
	for _, p := range m.parts {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, func(a, b state.Part) int { return a.Number - b.Number })
	return ps
}

// write sends data through s in one Write.
func (m *memUpload) write(t *testing.T, s *Store, data []byte) {
	t.Helper()
	if err := s.Write(context.Background(), m.get(), bytes.NewReader(data), m.commit); err != nil {
		t.Fatalf("write %d bytes at %d: %v", len(data), m.get().Offset, err)
	}
}

func (m *memUpload) finish(t *testing.T, s *Store) {
	t.Helper()
	if err := s.Finish(context.Background(), m.get(), m.manifest()); err != nil {
		t.Fatalf("finish: %v", err)
	}
	m.mu.Lock()
	m.rec.Finished = true
	m.mu.Unlock()
}

// failingReader yields data, then fails like a client that went away.
type failingReader struct {
	r   io.Reader
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

// getLog records the bytes each GetObject of a store asked for.
type getLog struct {
	mu    sync.Mutex
	bytes int64
}

func (l *getLog) total() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.bytes
}

// recordGets makes s log the ranges it reads back from the bucket.
func recordGets(s *Store) *getLog {
	l := &getLog{}
	opts := s.d.client.Options()
	opts.APIOptions = append(opts.APIOptions, func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("tusgateRecordGets",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
				middleware.InitializeOutput, middleware.Metadata, error,
			) {
				if g, ok := in.Parameters.(*s3.GetObjectInput); ok {
					var from, to int64
					if _, err := fmt.Sscanf(aws.ToString(g.Range), "bytes=%d-%d", &from, &to); err == nil {
						l.mu.Lock()
						l.bytes += to - from + 1
						l.mu.Unlock()
					} else {
						l.mu.Lock()
						l.bytes = 1 << 62 // an unbounded read: fail any bound
						l.mu.Unlock()
					}
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	})
	s.d.client = s3.New(opts)
	return l
}

// failPart makes every UploadPart of part number num through s fail with err
// before it is sent.
func failPart(s *Store, num int32, err error) {
	opts := s.d.client.Options()
	opts.APIOptions = append(opts.APIOptions, func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("tusgateFailPart",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
				middleware.InitializeOutput, middleware.Metadata, error,
			) {
				if p, ok := in.Parameters.(*s3.UploadPartInput); ok && aws.ToInt32(p.PartNumber) == num {
					return middleware.InitializeOutput{}, middleware.Metadata{}, err
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	})
	s.d.client = s3.New(opts)
}
