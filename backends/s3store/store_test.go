package s3store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/backends/bufpool"
	"github.com/tusgate/tusgate/state"
)

// A 100 MiB upload in random chunk sizes, each Write through a newly built
// Store as if every PATCH reached another replica: the object must be
// byte-identical, the tail always shorter than a part, and tails must not
// pile up.
func TestRandomChunksThroughFreshStores(t *testing.T) {
	cfg := testConfig(t)
	const size = 100 * MiB
	data := randomBytes(1, size)
	pool := bufpool.New(64*MiB, 0)
	m := newMemUpload(t, newStore(t, cfg, pool), "big", size, "")
	rng := rand.New(rand.NewPCG(1, 2))
	writes := 0
	for off := 0; off < size; writes++ {
		var n int
		switch rng.IntN(10) {
		case 0, 1, 2:
			n = 1 + rng.IntN(64*KiB)
		case 3, 4, 5, 6:
			n = 64*KiB + rng.IntN(4*MiB)
		default:
			n = 4*MiB + rng.IntN(12*MiB)
		}
		n = min(n, size-off)
		s := newStore(t, cfg, pool)
		reads := recordGets(s)
		prevTail := mustInt(t, m.get().Handle[HandleTailSize])
		m.write(t, s, data[off:off+n])
		off += n
		if got := reads.total(); got != prevTail {
			t.Fatalf("write %d re-read %d bytes; only the %d-byte tail may be", writes, got, prevTail)
		}

		u := m.get()
		ps := mustInt(t, u.Handle[HandlePartSize])
		tail := mustInt(t, u.Handle[HandleTailSize])
		if u.Offset != int64(off) || tail >= ps || int64(len(m.manifest())) != (u.Offset-tail)/ps {
			t.Fatalf("after %d bytes: offset %d, tail %d, %d parts", off, u.Offset, tail, len(m.manifest()))
		}
		if tails := countTails(t, s); tails > 2 {
			t.Fatalf("%d tail objects after write %d; at most the current and one stale expected", tails, writes)
		}
	}
	m.finish(t, newStore(t, cfg, pool))
	s := newStore(t, cfg, pool)
	got := getObject(t, s, cfg.Prefix+"big")
	if sha256.Sum256(got) != sha256.Sum256(data) {
		t.Fatalf("object differs from the upload (%d bytes, want %d)", len(got), size)
	}
	if keys := listKeys(t, s); len(keys) != 1 {
		t.Fatalf("objects left under the prefix: %v", keys)
	}
	if st := pool.Stats(); st.InUse != 0 || st.Peak > st.Budget {
		t.Fatalf("pool after the upload: %+v", st)
	}
	t.Logf("%d writes, %d parts", writes, len(m.manifest()))
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	if s == "" {
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func countTails(t *testing.T, s *Store) int {
	n := 0
	for _, k := range listKeys(t, s) {
		if strings.Contains(k, tailInfix) {
			n++
		}
	}
	return n
}

// Concurrent uploads share one pool: its accounting must never go above the
// budget, and every upload must still come out whole.
func TestConcurrentWritesStayWithinTheBudget(t *testing.T) {
	cfg := testConfig(t)
	const budget = 15 * MiB // three 5 MiB parts for five uploads
	pool := bufpool.New(budget, 0)
	s := newStore(t, cfg, pool)
	var wg sync.WaitGroup
	for i := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := "u" + strconv.Itoa(i)
			data := randomBytes(uint64(10+i), 22*MiB+i)
			m := newMemUpload(t, s, id, int64(len(data)), "")
			if err := s.Write(context.Background(), m.get(), bytes.NewReader(data), m.commit); err != nil {
				t.Error(err)
				return
			}
			if err := s.Finish(context.Background(), m.get(), m.manifest()); err != nil {
				t.Error(err)
				return
			}
			if !bytes.Equal(getObject(t, s, cfg.Prefix+id), data) {
				t.Errorf("%s: object differs", id)
			}
		}()
	}
	wg.Wait()
	st := pool.Stats()
	if st.Peak > budget || st.Allocated > budget || st.InUse != 0 {
		t.Fatalf("pool accounting: %+v (budget %d)", st, budget)
	}
	t.Logf("pool peak %d of %d bytes", st.Peak, budget)
}

// A body that breaks off keeps what arrived: full parts and a durable tail.
func TestInterruptedBodyIsKept(t *testing.T) {
	cfg := testConfig(t)
	s := newStore(t, cfg, nil)
	data := randomBytes(3, 12*MiB)
	m := newMemUpload(t, s, "cut", int64(len(data)), "")
	gone := errors.New("client went away")
	err := s.Write(context.Background(), m.get(), &failingReader{bytes.NewReader(data[:7*MiB]), gone}, m.commit)
	if !errors.Is(err, gone) {
		t.Fatalf("err = %v, want the read error", err)
	}
	u := m.get()
	if u.Offset != 7*MiB || u.Handle[HandleTailSize] != strconv.Itoa(2*MiB) || len(m.manifest()) != 1 {
		t.Fatalf("offset %d, tail %q, %d parts", u.Offset, u.Handle[HandleTailSize], len(m.manifest()))
	}
	m.write(t, newStore(t, cfg, nil), data[7*MiB:])
	m.finish(t, s)
	if !bytes.Equal(getObject(t, s, cfg.Prefix+"cut"), data) {
		t.Fatal("object differs")
	}
}

// A lost lease stops the write; the uncommitted tail is removed by Discard
// and the committed state still reads back whole.
func TestFencedCommitAndDiscard(t *testing.T) {
	cfg := testConfig(t)
	s := newStore(t, cfg, nil)
	data := randomBytes(4, 8*MiB)
	m := newMemUpload(t, s, "fenced", int64(len(data)), "")
	m.write(t, s, data[:3*MiB]) // a committed tail
	var lost backends.Progress
	m.fail = func(n int, ch backends.Progress) error {
		if n == 2 {
			lost = ch
			return state.ErrFenced
		}
		return nil
	}
	before := m.get()
	err := s.Write(context.Background(), before, bytes.NewReader(data[3*MiB:4*MiB]), m.commit)
	if !errors.Is(err, state.ErrFenced) {
		t.Fatalf("err = %v, want ErrFenced", err)
	}
	newTail := lost.Handle[HandleTailKey]
	if newTail == "" || newTail == before.Handle[HandleTailKey] {
		t.Fatalf("uncommitted change has no new tail: %+v", lost)
	}
	if ok, _ := s.d.Exists(context.Background(), newTail); !ok {
		t.Fatal("the uncommitted tail was not stored")
	}
	if err := s.Discard(context.Background(), m.get(), lost); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.d.Exists(context.Background(), newTail); ok {
		t.Fatal("Discard left the uncommitted tail")
	}
	if ok, _ := s.d.Exists(context.Background(), before.Handle[HandleTailKey]); !ok {
		t.Fatal("the committed tail is gone")
	}
	m.fail = nil
	m.write(t, s, data[3*MiB:])
	m.finish(t, s)
	if !bytes.Equal(getObject(t, s, cfg.Prefix+"fenced"), data) {
		t.Fatal("object differs")
	}
}

// A part that S3 refuses fails the write without committing anything.
func TestRefusedPartCommitsNothing(t *testing.T) {
	cfg := testConfig(t)
	s := newStore(t, cfg, nil)
	// Under 64 KiB the body is sent before MinIO answers, so the refusal
	// arrives as an answer, not as a reset connection.
	m := newMemUpload(t, s, "broken", 60*KiB, "")
	m.rec.Handle[HandleUploadID] = "no-such-upload"
	err := s.Write(context.Background(), m.get(), bytes.NewReader(randomBytes(5, 60*KiB)), m.commit)
	if !errors.Is(err, backends.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	if m.commits != 0 || m.get().Offset != 0 {
		t.Fatalf("%d commits, offset %d", m.commits, m.get().Offset)
	}
}

// When a part in the middle fails, the parts before it are committed and
// nothing after it, even parts that were stored (invariant 3).
func TestFailedPartStopsTheOffsetBeforeIt(t *testing.T) {
	cfg := testConfig(t)
	s := newStore(t, cfg, nil)
	data := randomBytes(12, 18*MiB)
	m := newMemUpload(t, s, "gap", int64(len(data)), "")
	boom := errors.New("injected failure of part 2")
	failPart(s, 2, boom)
	err := s.Write(context.Background(), m.get(), bytes.NewReader(data), m.commit)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the part failure", err)
	}
	u := m.get()
	if u.Offset != 5*MiB || len(m.manifest()) != 1 || m.manifest()[0].Number != 1 || u.Handle[HandleTailKey] != "" {
		t.Fatalf("offset %d, parts %+v, tail %q", u.Offset, m.manifest(), u.Handle[HandleTailKey])
	}
	s = newStore(t, cfg, nil)
	m.write(t, s, data[5*MiB:])
	m.finish(t, s)
	if !bytes.Equal(getObject(t, s, cfg.Prefix+"gap"), data) {
		t.Fatal("object differs")
	}
}

func TestFinishSetsAttributesAndIsIdempotent(t *testing.T) {
	cfg := testConfig(t)
	s := newStore(t, cfg, nil)
	meta := "filename " + b64("résumé 2024.pdf") + ",filetype " + b64("application/pdf") + ",origin " + b64("test")
	data := randomBytes(6, 6*MiB+123)
	m := newMemUpload(t, s, "doc", int64(len(data)), meta)
	m.write(t, s, data[:MiB])
	m.write(t, s, data[MiB:])
	if len(m.manifest()) != 2 || m.get().Handle[HandleTailKey] != "" {
		t.Fatalf("the write that reached the length should store its rest as the last part: %d parts, tail %q",
			len(m.manifest()), m.get().Handle[HandleTailKey])
	}
	m.finish(t, s)
	m.finish(t, newStore(t, cfg, nil)) // a second Finish after success
	head, err := s.d.client.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &cfg.Bucket, Key: aws.String(cfg.Prefix + "doc")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(head.ContentType) != "application/pdf" || aws.ToInt64(head.ContentLength) != int64(len(data)) {
		t.Errorf("type %q, length %d", aws.ToString(head.ContentType), aws.ToInt64(head.ContentLength))
	}
	if _, p, err := mime.ParseMediaType(aws.ToString(head.ContentDisposition)); err != nil || p["filename"] != "résumé 2024.pdf" {
		t.Errorf("disposition %q", aws.ToString(head.ContentDisposition))
	}
	if head.Metadata["origin"] != "test" {
		t.Errorf("metadata %v", head.Metadata)
	}
	if !bytes.Equal(getObject(t, s, cfg.Prefix+"doc"), data) {
		t.Fatal("object differs")
	}
}

// A deferred-length upload gets the doubling layout (it plans for 5 TiB)
// and works with the default 64 MiB budget.
func TestFinishUploadsTheTailOfADeferredUpload(t *testing.T) {
	cfg := testConfig(t)
	s := newStore(t, cfg, nil)
	m := newMemUpload(t, s, "deferred", -1, "")
	want := deferredLayout(t, s.Config())
	if h := m.get().Handle; h[HandleLayout] != want.String() || want.Fixed() || h[HandlePartSize] != "" {
		t.Fatalf("deferred handle %v, want layout %q and no fixed part size", h, want.String())
	}
	data := randomBytes(7, 3*MiB)
	m.write(t, s, data[:MiB])
	m.write(t, s, data[MiB:])
	length := int64(len(data))
	m.declareLength(length)
	m.finish(t, s)
	if !bytes.Equal(getObject(t, s, cfg.Prefix+"deferred"), data) {
		t.Fatal("object differs")
	}
	if n := countTails(t, s); n != 0 {
		t.Fatalf("%d tails left after finish", n)
	}
}

func TestZeroLengthUploadIsAnEmptyObject(t *testing.T) {
	cfg := testConfig(t)
	s := newStore(t, cfg, nil)
	m := newMemUpload(t, s, "empty", 0, "filetype "+b64("text/plain"))
	m.write(t, s, nil)
	if m.commits != 0 {
		t.Fatalf("an empty body made %d commits", m.commits)
	}
	m.finish(t, s)
	m.finish(t, s)
	head, err := s.d.client.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &cfg.Bucket, Key: aws.String(cfg.Prefix + "empty")})
	if err != nil || aws.ToInt64(head.ContentLength) != 0 || aws.ToString(head.ContentType) != "text/plain" {
		t.Fatalf("head: %v %+v", err, head)
	}
}

func TestDeleteRemovesEverything(t *testing.T) {
	cfg := testConfig(t)
	s := newStore(t, cfg, nil)
	m := newMemUpload(t, s, "gone", 20*MiB, "")
	m.write(t, s, randomBytes(8, 7*MiB))
	if err := s.Delete(context.Background(), m.get()); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(context.Background(), m.get()); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	if keys := listKeys(t, s); len(keys) != 0 {
		t.Fatalf("left behind: %v", keys)
	}
	ups, err := s.d.client.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: &cfg.Bucket, Prefix: &cfg.Prefix})
	if err != nil || len(ups.Uploads) != 0 {
		t.Fatalf("multipart uploads left: %v %v", err, ups.Uploads)
	}
}

func TestConcat(t *testing.T) {
	for _, equal := range []bool{false, true} {
		t.Run("equal="+strconv.FormatBool(equal), func(t *testing.T) {
			cfg := testConfig(t)
			cfg.EqualParts = equal
			s := newStore(t, cfg, nil)
			sizes := []int{6 * MiB, 1 * MiB, 12 * MiB, 0, 3 * KiB}
			var partials []*state.Upload
			var want []byte
			for i, n := range sizes {
				data := randomBytes(uint64(20+i), n)
				m := newMemUpload(t, s, "p"+strconv.Itoa(i), int64(n), "")
				m.write(t, s, data)
				m.finish(t, s)
				partials = append(partials, m.get())
				want = append(want, data...)
			}
			partials = append(partials, partials[0]) // the same partial twice
			want = append(want, want[:6*MiB]...)
			final := newFinalUpload(t, s, "final", int64(len(want)), partials)
			if err := s.Concat(context.Background(), final.get(), partials); err != nil {
				t.Fatal(err)
			}
			final.finish(t, s) // the gateway's Finish after Concat must succeed
			if !bytes.Equal(getObject(t, s, cfg.Prefix+"final"), want) {
				t.Fatal("concatenation differs")
			}
		})
	}
}

func TestRangeReader(t *testing.T) {
	cfg := testConfig(t)
	s := newStore(t, cfg, nil)
	data := randomBytes(9, MiB)
	m := newMemUpload(t, s, "r", int64(len(data)), "")
	m.write(t, s, data)
	m.finish(t, s)
	read := func(off, n int64) []byte {
		rc, err := s.NewRangeReader(context.Background(), m.get(), off, n)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if !bytes.Equal(read(1000, 5000), data[1000:6000]) || !bytes.Equal(read(MiB-10, -1), data[MiB-10:]) ||
		len(read(5, 0)) != 0 {
		t.Fatal("ranges differ")
	}
	missing := &state.Upload{ID: "never"}
	if _, err := s.NewRangeReader(context.Background(), missing, 0, 10); !errors.Is(err, backends.ErrNotFound) {
		t.Fatalf("missing object: %v", err)
	}
	if _, err := s.NewRangeReader(context.Background(), missing, 0, 0); !errors.Is(err, backends.ErrNotFound) {
		t.Fatalf("missing object, empty range: %v", err)
	}
}

func TestPresignGet(t *testing.T) {
	cfg := testConfig(t)
	s := newStore(t, cfg, nil)
	m := newMemUpload(t, s, "p", 5, "")
	m.write(t, s, []byte("hello"))
	m.finish(t, s)
	if _, err := s.PresignGet(context.Background(), m.get(), 0); !errors.Is(err, ErrPresignDisabled) {
		t.Fatalf("presign without a lifetime: %v", err)
	}
	if _, err := s.PresignGet(context.Background(), m.get(), time.Minute); err != nil {
		t.Fatalf("presign with the caller's lifetime: %v", err)
	}
	cfg.PresignTTL = time.Minute
	s = newStore(t, cfg, nil)
	u, err := s.PresignGet(context.Background(), m.get(), 0) // the option's lifetime
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u, cfg.Endpoint) {
		t.Fatalf("presigned URL %q is not on the test endpoint", u)
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(body) != "hello" {
		t.Fatalf("GET presigned: %d %q", resp.StatusCode, body)
	}
}

func TestNewNamesAMissingBucket(t *testing.T) {
	cfg := testConfig(t)
	cfg.Bucket = "tusgate-no-such-bucket"
	_, err := New(context.Background(), cfg, bufpool.New(MiB, 0), nil)
	if err == nil || !strings.Contains(err.Error(), `"tusgate-no-such-bucket"`) || !errors.Is(err, backends.ErrNotFound) {
		t.Fatalf("err = %v", err)
	}
}

func TestPingAndUnreachableEndpoint(t *testing.T) {
	cfg := testConfig(t)
	s := newStore(t, cfg, nil)
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	cfg.Endpoint = "http://127.0.0.1:1" // nothing listens there
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := New(ctx, cfg, bufpool.New(MiB, 0), nil); !errors.Is(err, backends.ErrUnavailable) {
		t.Fatalf("unreachable endpoint: %v", err)
	}
}

// dataErrReader returns its last bytes together with err, as a network
// reader may.
type dataErrReader struct {
	data []byte
	err  error
}

func (d *dataErrReader) Read(p []byte) (int, error) {
	n := copy(p, d.data)
	d.data = d.data[n:]
	if len(d.data) == 0 {
		return n, d.err
	}
	return n, nil
}

// A read error arriving with the bytes that complete a part must not turn
// that full part into a tail (tails are shorter than a part).
func TestReadErrorWithTheBytesThatFillAPart(t *testing.T) {
	cfg := testConfig(t)
	s := newStore(t, cfg, nil)
	data := randomBytes(11, 10*MiB+7)
	m := newMemUpload(t, s, "edge", int64(len(data)), "")
	gone := errors.New("connection reset")
	err := s.Write(context.Background(), m.get(), &dataErrReader{data[:5*MiB], gone}, m.commit)
	if !errors.Is(err, gone) {
		t.Fatalf("err = %v, want the read error", err)
	}
	u := m.get()
	if u.Offset != 5*MiB || u.Handle[HandleTailKey] != "" || len(m.manifest()) != 1 {
		t.Fatalf("offset %d, tail %q, %d parts", u.Offset, u.Handle[HandleTailKey], len(m.manifest()))
	}
	m.write(t, s, data[5*MiB:])
	m.finish(t, s)
	if !bytes.Equal(getObject(t, s, cfg.Prefix+"edge"), data) {
		t.Fatal("object differs")
	}
}

// Hook events name the object with tusd's s3store keys; the key is where
// the finished object is.
func TestStorageInfoNamesBucketAndKey(t *testing.T) {
	cfg := testConfig(t)
	s := newStore(t, cfg, nil)
	m := newMemUpload(t, s, "storageinfo1", 3, "")
	m.write(t, s, []byte("xyz"))
	m.finish(t, s)
	info := s.StorageInfo(m.get())
	if info["Type"] != "s3store" || info["Bucket"] != cfg.Bucket || info["Key"] != cfg.Prefix+"storageinfo1" || len(info) != 3 {
		t.Fatalf("StorageInfo = %v, want s3store, bucket %q, key %q", info, cfg.Bucket, cfg.Prefix+"storageinfo1")
	}
	if got := getObject(t, s, info["Key"]); string(got) != "xyz" {
		t.Fatalf("object at Key holds %q", got)
	}
}
