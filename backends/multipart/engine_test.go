package multipart

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/backends/bufpool"
	"github.com/tusgate/tusgate/state"
)

// memDriver is an object store in memory: sessions of numbered parts and
// whole objects. Faults are injected through its hooks.
type memDriver struct {
	mu       sync.Mutex
	sessions map[string]map[int][]byte // upload id -> parts
	keys     map[string]string         // upload id -> object name
	objects  map[string][]byte
	next     int
	puts     map[int]int // part number -> PutPart calls
	// failPut, when set, decides the error of a PutPart.
	failPut func(num int) error
	// copies offered (CopyPart); copyErr fails them.
	copies  int
	copyErr error
}

func newMemDriver() *memDriver {
	return &memDriver{sessions: map[string]map[int][]byte{}, keys: map[string]string{}, objects: map[string][]byte{}, puts: map[int]int{}}
}

func (d *memDriver) Begin(_ context.Context, u *state.Upload, key string) (string, string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.next++
	id := "session-" + strconv.Itoa(d.next)
	d.sessions[id] = map[int][]byte{}
	d.keys[id] = key
	if u.Final() {
		return id, "", nil
	}
	return id, "crc32c", nil
}

func (d *memDriver) Digest(h Handle) hash.Hash {
	if h.Checksum == "crc32c" {
		return crc32.New(crc32.MakeTable(crc32.Castagnoli))
	}
	return nil
}

func (d *memDriver) PutPart(_ context.Context, h Handle, num int, buf *bufpool.Buffer) (string, string, error) {
	d.mu.Lock()
	d.puts[num]++
	fail := d.failPut
	d.mu.Unlock()
	if fail != nil {
		if err := fail(num); err != nil {
			return "", "", err
		}
	}
	b, err := io.ReadAll(buf.Reader())
	if err != nil {
		return "", "", err
	}
	sum := ""
	if h.Checksum == "crc32c" {
		// The store checks the digest the buffer made on receipt.
		if got, want := buf.Hash().(hash.Hash32).Sum32(), crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)); got != want {
			return "", "", fmt.Errorf("part %d: checksum %x, bytes have %x", num, got, want)
		}
		sum = strconv.FormatUint(uint64(crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli))), 16)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	parts, ok := d.sessions[h.UploadID]
	if !ok {
		return "", "", errors.New("no such session")
	}
	parts[num] = b
	return fmt.Sprintf("etag-%d-%d", num, len(b)), sum, nil
}

func (d *memDriver) Complete(_ context.Context, h Handle, _ *state.Upload, parts []state.Part) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.objects[h.Key]; ok {
		return nil
	}
	stored, ok := d.sessions[h.UploadID]
	if !ok {
		return errors.New("no such session")
	}
	var obj []byte
	for _, p := range parts {
		b := stored[p.Number]
		if p.ETag != fmt.Sprintf("etag-%d-%d", p.Number, len(b)) || int64(len(b)) != p.Size {
			return fmt.Errorf("part %d: manifest %+v does not match the stored %d bytes", p.Number, p, len(b))
		}
		obj = append(obj, b...)
	}
	d.objects[h.Key] = obj
	delete(d.sessions, h.UploadID)
	return nil
}

func (d *memDriver) Abort(_ context.Context, h Handle) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.sessions, h.UploadID)
	return nil
}

func (d *memDriver) PutObject(_ context.Context, key string, buf *bufpool.Buffer) error {
	b, err := io.ReadAll(buf.Reader())
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.objects[key] = b
	return nil
}

func (d *memDriver) OpenObject(_ context.Context, key string, off, length int64) (io.ReadCloser, error) {
	d.mu.Lock()
	b, ok := d.objects[key]
	d.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("no object %s: %w", key, backends.ErrNotFound)
	}
	if off > int64(len(b)) {
		return nil, fmt.Errorf("no byte %d in %s", off, key)
	}
	if length < 0 {
		length = int64(len(b)) - off
	}
	return io.NopCloser(bytes.NewReader(b[off:min(off+length, int64(len(b)))])), nil
}

func (d *memDriver) DeleteObject(_ context.Context, key string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.objects, key)
	return nil
}

func (d *memDriver) ListObjects(_ context.Context, prefix string) ([]string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var keys []string
	for k := range d.objects {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	return keys, nil
}

func (d *memDriver) Exists(_ context.Context, key string) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.objects[key]
	return ok, nil
}

// copyingDriver adds server-side copies to memDriver.
type copyingDriver struct{ *memDriver }

func (d copyingDriver) CopyPart(_ context.Context, h Handle, num int, seg Segment) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.copyErr != nil {
		return "", d.copyErr
	}
	d.copies++
	src := d.objects[seg.Key]
	b := slices.Clone(src[seg.Off : seg.Off+seg.Len])
	d.sessions[h.UploadID][num] = b
	return fmt.Sprintf("etag-%d-%d", num, len(b)), nil
}

const testPart = 1 << 10

// testConfig has 1 KiB parts, at most 64 of them.
func testConfig() Config {
	return Config{Namespace: "mem", Prefix: "p/", MinPartSize: testPart, MaxPartSize: 16 * testPart, MaxParts: 64,
		MaxObjectSize: 64 * testPart, PartSize: testPart, Concurrency: 3}
}

func newEngine(t *testing.T, d Driver) *Engine {
	t.Helper()
	e, err := New(testConfig(), d, bufpool.New(8*testPart, 0), nil)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// record applies commits the way a state store does.
type record struct {
	mu    sync.Mutex
	u     *state.Upload
	parts map[int]state.Part
	n     int
	fail  func(n int) error
}

func (r *record) commit(_ context.Context, ch backends.Progress) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	if r.fail != nil {
		if err := r.fail(r.n); err != nil {
			return err
		}
	}
	r.u.Apply(ch.Change())
	for _, p := range ch.Parts {
		r.parts[p.Number] = p
	}
	return nil
}

func (r *record) get() *state.Upload {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.u.Clone()
}

func (r *record) manifest() []state.Part {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ps []state.Part
	for _, p := range r.parts {
		ps = append(ps, p)
	}
	return ps
}

func create(t *testing.T, e *Engine, u *state.Upload) *record {
	t.Helper()
	hv, err := e.Create(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	u.Handle = hv
	return &record{u: u, parts: map[int]state.Part{}}
}

func data(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{byte(n)}).Read(b)
	return b
}

// writeAll sends b in chunks of random sizes, one Write each.
func writeAll(t *testing.T, e *Engine, r *record, b []byte, rng *rand.Rand) {
	t.Helper()
	for off := r.get().Offset; off < int64(len(b)); off = r.get().Offset {
		n := min(int64(1+rng.IntN(3*testPart)), int64(len(b))-off)
		if err := e.Write(context.Background(), r.get(), bytes.NewReader(b[off:off+n]), r.commit); err != nil {
			t.Fatalf("write %d at %d: %v", n, off, err)
		}
		if got := r.get().Offset; got != off+n {
			t.Fatalf("write of %d at %d committed up to %d", n, off, got)
		}
	}
}

func finish(t *testing.T, e *Engine, d *memDriver, r *record, want []byte) {
	t.Helper()
	if err := e.Finish(context.Background(), r.get(), r.manifest()); err != nil {
		t.Fatalf("finish: %v", err)
	}
	// Idempotent: a crash before Finished was committed calls it again.
	if err := e.Finish(context.Background(), r.get(), r.manifest()); err != nil {
		t.Fatalf("second finish: %v", err)
	}
	h := e.HandleOf(r.get())
	d.mu.Lock()
	defer d.mu.Unlock()
	if !bytes.Equal(d.objects[h.Key], want) {
		t.Fatalf("object has %d bytes, want the %d written", len(d.objects[h.Key]), len(want))
	}
	for k := range d.objects {
		if strings.Contains(k, TailInfix) {
			t.Fatalf("tail %s left after finish", k)
		}
	}
}

// Random chunks, known and deferred lengths, sizes around part boundaries.
func TestEngineRandomChunks(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, testPart - 1, testPart, testPart + 1, 5*testPart + 17, 40 * testPart} {
		for _, deferred := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d/deferred=%v", n, deferred), func(t *testing.T) {
				d := newMemDriver()
				e := newEngine(t, d)
				length := int64(n)
				if deferred {
					length = -1
				}
				r := create(t, e, &state.Upload{ID: "u", Length: length})
				b := data(n)
				writeAll(t, e, r, b, rng)
				if deferred {
					r.u.Length = int64(n)
				}
				finish(t, e, d, r, b)
			})
		}
	}
}

// A failed part stops the offset before it; the retry sends it again and
// the upload completes. Parts after the failed one may have been stored:
// their second copy replaces the first (a duplicated part).
func TestEngineFailedPartIsRetried(t *testing.T) {
	d := newMemDriver()
	e := newEngine(t, d)
	b := data(10 * testPart)
	r := create(t, e, &state.Upload{ID: "u", Length: int64(len(b))})
	boom := errors.New("injected part failure")
	d.failPut = func(num int) error {
		if num == 4 {
			return boom
		}
		return nil
	}
	err := e.Write(context.Background(), r.get(), bytes.NewReader(b), r.commit)
	if !errors.Is(err, boom) {
		t.Fatalf("write: %v, want the part failure", err)
	}
	if off := r.get().Offset; off > 3*testPart || off%testPart != 0 {
		t.Fatalf("offset %d after part 4 failed", off)
	}
	d.failPut = nil
	off := r.get().Offset
	if err := e.Write(context.Background(), r.get(), bytes.NewReader(b[off:]), r.commit); err != nil {
		t.Fatal(err)
	}
	if d.puts[4] != 2 {
		t.Fatalf("part 4 sent %d times", d.puts[4])
	}
	finish(t, e, d, r, b)
}

// A crash between parts: the commit after part 2 fails (lease lost), so
// nothing more is committed. Another replica resumes from committed state;
// parts already stored beyond it are sent again and replace the first copy.
func TestEngineCrashBetweenParts(t *testing.T) {
	d := newMemDriver()
	e := newEngine(t, d)
	b := data(12*testPart + 100)
	r := create(t, e, &state.Upload{ID: "u", Length: -1})
	lost := errors.New("lease lost")
	r.fail = func(n int) error {
		if n >= 2 {
			return lost
		}
		return nil
	}
	err := e.Write(context.Background(), r.get(), bytes.NewReader(b), r.commit)
	if !errors.Is(err, lost) {
		t.Fatalf("write: %v, want the commit failure", err)
	}
	r.fail = nil
	crashed := r.get().Offset
	if crashed >= int64(len(b)) {
		t.Fatalf("offset %d after a crash", crashed)
	}
	other := newEngine(t, d) // a second replica, same store
	writeAll(t, other, r, b, rand.New(rand.NewPCG(5, 6)))
	r.u.Length = int64(len(b))
	finish(t, other, d, r, b)
}

// Tails between small PATCHes are durable objects; the superseded ones are
// gone once the next Write commits, and Delete removes everything.
func TestEngineTailsAndDelete(t *testing.T) {
	d := newMemDriver()
	e := newEngine(t, d)
	b := data(3*testPart + 5)
	r := create(t, e, &state.Upload{ID: "u", Length: int64(len(b))})
	for off := 0; off < len(b); off += 100 {
		end := min(off+100, len(b))
		if err := e.Write(context.Background(), r.get(), bytes.NewReader(b[off:end]), r.commit); err != nil {
			t.Fatal(err)
		}
		tails, _ := d.ListObjects(context.Background(), "p/u"+TailInfix)
		if len(tails) > 2 {
			t.Fatalf("%d tails at offset %d", len(tails), end)
		}
	}
	if err := e.Delete(context.Background(), r.get()); err != nil {
		t.Fatal(err)
	}
	if len(d.objects) != 0 || len(d.sessions) != 0 {
		t.Fatalf("left after delete: %d objects, %d sessions", len(d.objects), len(d.sessions))
	}
}

// Concatenation copies inside the store where the driver can, and streams
// the parts when copies are refused.
func TestEngineConcat(t *testing.T) {
	for _, refuse := range []bool{false, true} {
		t.Run(fmt.Sprintf("refused=%v", refuse), func(t *testing.T) {
			md := newMemDriver()
			if refuse {
				md.copyErr = fmt.Errorf("no permission: %w", ErrCopyUnsupported)
			}
			d := copyingDriver{md}
			e := newEngine(t, d)
			var partials []*state.Upload
			var want []byte
			for i, n := range []int{3 * testPart, 10, 2*testPart + 1} {
				b := data(n + i)
				r := create(t, e, &state.Upload{ID: fmt.Sprint("p", i), Length: int64(len(b))})
				writeAll(t, e, r, b, rand.New(rand.NewPCG(uint64(i), 1)))
				finish(t, e, md, r, b)
				partials = append(partials, r.get())
				want = append(want, b...)
			}
			final := create(t, e, &state.Upload{ID: "final", Length: int64(len(want)), Partials: []string{"p0", "p1", "p2"}})
			if err := e.Concat(context.Background(), final.get(), partials); err != nil {
				t.Fatal(err)
			}
			final.u.Offset = final.u.Length
			finish(t, e, md, final, want)
			if refuse == (md.copies > 0) {
				t.Fatalf("%d copies with copies refused=%v", md.copies, refuse)
			}
		})
	}
}

func (d *memDriver) Sessions(_ context.Context, key string) ([]string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var ids []string
	for id, k := range d.keys {
		if k == key {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// A record written before Create stored its session (a crash in between)
// is deleted with the session found under its name.
func TestEngineDeleteFindsTheSessionOfARecordWithoutOne(t *testing.T) {
	d := newMemDriver()
	e := newEngine(t, d)
	r := create(t, e, &state.Upload{ID: "u", Length: 10})
	u := r.get()
	u.Handle = nil
	if err := e.Delete(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	if len(d.sessions) != 0 {
		t.Fatalf("%d sessions left", len(d.sessions))
	}
}

// A tail is stored before the commit that records it. A crash in between
// (here: the commit fails, as when the replica dies or Redis loses the
// reply) leaves a tail no record names; finishing removes it anyway.
func TestEngineFinishRemovesTailsNoRecordNames(t *testing.T) {
	d := newMemDriver()
	e := newEngine(t, d)
	b := data(2*testPart + 300)
	r := create(t, e, &state.Upload{ID: "u", Length: int64(len(b))})
	r.fail = func(int) error { return errors.New("replica died before the commit") }
	if err := e.Write(context.Background(), r.get(), bytes.NewReader(b[:100]), r.commit); err == nil {
		t.Fatal("a write whose commit failed reported success")
	}
	if strays, _ := d.ListObjects(context.Background(), "p/u"+TailInfix); len(strays) == 0 {
		t.Fatal("the failed write stored no tail: the test does not reach the case")
	}
	r.fail = nil
	writeAll(t, e, r, b, rand.New(rand.NewPCG(7, 8)))
	finish(t, e, d, r, b) // fails on any tail left behind
}

// NewRangeReader reads windows of the finished object, refuses a negative
// offset, and reports a missing object also for an empty range (which
// needs no read).
func TestEngineRangeReader(t *testing.T) {
	d := newMemDriver()
	e := newEngine(t, d)
	r := create(t, e, &state.Upload{ID: "u", Length: 3*testPart + 5})
	b := data(3*testPart + 5)
	writeAll(t, e, r, b, rand.New(rand.NewPCG(3, 4)))
	finish(t, e, d, r, b)
	u := r.get()
	for _, w := range [][2]int64{{0, -1}, {0, 1}, {testPart - 1, 2}, {2 * testPart, -1}, {int64(len(b)) - 1, 1}} {
		rc, err := e.NewRangeReader(context.Background(), u, w[0], w[1])
		if err != nil {
			t.Fatalf("window %v: %v", w, err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		want := b[w[0]:]
		if w[1] >= 0 {
			want = b[w[0] : w[0]+w[1]]
		}
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("window %v: %d bytes (%v), want %d", w, len(got), err, len(want))
		}
	}
	rc, err := e.NewRangeReader(context.Background(), u, 5, 0)
	if err != nil {
		t.Fatalf("empty range: %v", err)
	}
	if got, _ := io.ReadAll(rc); len(got) != 0 {
		t.Fatalf("empty range read %d bytes", len(got))
	}
	if _, err := e.NewRangeReader(context.Background(), u, -1, 1); err == nil {
		t.Fatal("negative offset accepted")
	}
	// Without a handle the key is prefix + ID, which holds nothing.
	missing := &state.Upload{ID: "missing", Length: 10, Offset: 10}
	for _, n := range []int64{0, 10} {
		if _, err := e.NewRangeReader(context.Background(), missing, 0, n); !errors.Is(err, backends.ErrNotFound) {
			t.Errorf("missing object, %d bytes: %v, want ErrNotFound", n, err)
		}
	}
}

// cutDriver serves objects whose bodies break off after half their bytes
// with err.
type cutDriver struct {
	*memDriver
	err error
}

type failAfter struct {
	r   io.Reader
	err error
}

func (f failAfter) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

func (d cutDriver) OpenObject(ctx context.Context, key string, off, length int64) (io.ReadCloser, error) {
	rc, err := d.memDriver.OpenObject(ctx, key, off, length)
	if err != nil {
		return nil, err
	}
	b, _ := io.ReadAll(rc)
	return io.NopCloser(failAfter{bytes.NewReader(b[:len(b)/2]), d.err}), nil
}

// Reading an object back (a tail) fails when its body breaks off: as
// ErrUnavailable when the network cut it, so the client retries; and a body
// shorter than asked for is an error too.
func TestEngineReadObjectFailures(t *testing.T) {
	d := newMemDriver()
	d.objects["k"] = data(100)
	for _, c := range []struct {
		err         error
		unavailable bool
	}{
		{io.ErrUnexpectedEOF, true},
		{context.DeadlineExceeded, true},
		{errors.New("checksum mismatch"), false},
		{io.EOF, false}, // a short body
	} {
		e := newEngine(t, cutDriver{d, c.err})
		buf, err := e.pool.Get(context.Background(), 100)
		if err != nil {
			t.Fatal(err)
		}
		err = e.readObject(context.Background(), "k", 0, 100, buf)
		buf.Release()
		if err == nil || errors.Is(err, backends.ErrUnavailable) != c.unavailable {
			t.Errorf("body cut with %v: %v (unavailable: want %v)", c.err, err, c.unavailable)
		}
	}
	e := newEngine(t, d)
	buf, _ := e.pool.Get(context.Background(), 100)
	defer buf.Release()
	if err := e.readObject(context.Background(), "k", 10, 90, buf); err != nil {
		t.Fatalf("read of 90 bytes from 10: %v", err)
	}
	if got, _ := io.ReadAll(buf.Reader()); !bytes.Equal(got, d.objects["k"][10:]) {
		t.Fatalf("read of 90 bytes from 10 got %d other bytes", len(got))
	}
}
