package s3store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/backends/bufpool"
	"github.com/tusgate/tusgate/backends/multipart"
	"github.com/tusgate/tusgate/state"
)

// smallTiers is a test bucket config whose deferred-length uploads use 5 MiB
// parts doubling every two parts: 5, 5, 10, 10, 20, 20, 40 MiB, ..., so
// tiers change at 10 and 30 MiB and a 40 MiB part follows at 70 MiB.
func smallTiers(t *testing.T) Config {
	cfg := testConfig(t)
	cfg.deferredTier = 2
	return cfg
}

var smallLayout = doubling(5*MiB, 2)

// checkLayoutState asserts that the committed state of m follows l: the
// manifest is parts 1..n of l exactly (a last part of a complete upload may
// be short), and a tail starts where they end and is shorter than its part.
func checkLayoutState(t *testing.T, m *memUpload, l multipart.Layout) {
	t.Helper()
	u := m.get()
	if got := engineCfg.LayoutFromHandle(keys, u.Handle); got != l {
		t.Fatalf("handle layout %+v, want %+v", got, l)
	}
	tail := mustInt(t, u.Handle[HandleTailSize])
	var end int64
	for i, p := range m.manifest() {
		want := l.Part(i + 1)
		short := u.Complete() && p.Offset+p.Size == u.Length && p.Size < want.Size
		if p.Number != want.Num || p.Offset != want.Start || (p.Size != want.Size && !short) {
			t.Fatalf("manifest entry %d is %+v, layout part %+v", i, p, want)
		}
		end = p.Offset + p.Size
	}
	if end+tail != u.Offset {
		t.Fatalf("parts end at %d, tail %d, offset %d", end, tail, u.Offset)
	}
	if tail > 0 {
		if p := l.At(end); p.Start != end || tail >= p.Size {
			t.Fatalf("a %d-byte tail at %d does not fit part %+v", tail, end, p)
		}
	}
}

func declare(t *testing.T, m *memUpload, length int64) {
	t.Helper()
	m.declareLength(length)
}

// Deferred-length uploads across tier boundaries, in one body that spans a
// tier and in random chunks, each body through a fresh Store, some bodies
// cut off by the client: the state
// follows the layout after every write, only the tail is re-read, and the
// object comes out whole whether the length is declared mid-way or after
// the last byte.
func TestDeferredUploadAcrossTiers(t *testing.T) {
	cases := []struct {
		name string
		size int
		// declareAt: the length is declared before the first write that
		// starts at or after it (size: after the last byte).
		declareAt int
		// bigBody: where the body that follows the first one ends; the
		// rest comes in random chunks.
		bigBody int
	}{
		{"DeclaredMidway", 45*MiB + 7, 41 * MiB, 41 * MiB},
		{"DeclaredAtEnd", 33*MiB + 12345, 33*MiB + 12345, 10 * MiB}, // random chunks only
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := smallTiers(t)
			const budget = 24 * MiB // one 20 MiB part at a time
			pool := bufpool.New(budget, 0)
			data := randomBytes(uint64(40+i), c.size)
			m := newMemUpload(t, newStore(t, cfg, pool), "d", -1, "")
			rng := rand.New(rand.NewPCG(uint64(i), 9))
			gone := errors.New("client went away")

			// The first body breaks off with the bytes that end tier 0.
			err := newStore(t, cfg, pool).Write(context.Background(), m.get(), &dataErrReader{data[:10*MiB], gone}, m.commit)
			if !errors.Is(err, gone) || m.get().Offset != 10*MiB || m.get().Handle[HandleTailKey] != "" {
				t.Fatalf("body ending on the tier boundary: err %v, offset %d, tail %q", err, m.get().Offset, m.get().Handle[HandleTailKey])
			}
			checkLayoutState(t, m, smallLayout)
			// One body fills parts 3 and 4 and runs into (or fills) the
			// 20 MiB part 5.
			m.write(t, newStore(t, cfg, pool), data[10*MiB:c.bigBody])
			checkLayoutState(t, m, smallLayout)

			writes := 2
			for off := c.bigBody; off < c.size; writes++ {
				if off >= c.declareAt && m.get().DeferLength() {
					declare(t, m, int64(c.size))
				}
				var n int
				switch rng.IntN(10) {
				case 0, 1, 2:
					n = 1 + rng.IntN(64*KiB)
				case 3, 4, 5:
					n = 64*KiB + rng.IntN(4*MiB)
				default:
					n = 4*MiB + rng.IntN(8*MiB)
				}
				n = min(n, c.size-off)
				s := newStore(t, cfg, pool)
				reads := recordGets(s)
				prevTail := mustInt(t, m.get().Handle[HandleTailSize])
				body := bytes.NewReader(data[off : off+n])
				if writes%4 == 0 && off+n < c.size {
					err = s.Write(context.Background(), m.get(), &failingReader{body, gone}, m.commit)
					if !errors.Is(err, gone) {
						t.Fatalf("interrupted write %d: err = %v", writes, err)
					}
				} else if err = s.Write(context.Background(), m.get(), body, m.commit); err != nil {
					t.Fatalf("write %d of %d bytes at %d: %v", writes, n, off, err)
				}
				off += n
				if m.get().Offset != int64(off) {
					t.Fatalf("write %d: offset %d, want %d", writes, m.get().Offset, off)
				}
				if got := reads.total(); got != prevTail {
					t.Fatalf("write %d re-read %d bytes; only the %d-byte tail may be", writes, got, prevTail)
				}
				checkLayoutState(t, m, smallLayout)
			}
			if m.get().DeferLength() {
				declare(t, m, int64(c.size))
			}
			s := newStore(t, cfg, pool)
			m.finish(t, s)
			checkLayoutState(t, m, smallLayout)
			if got := getObject(t, s, cfg.Prefix+"d"); sha256.Sum256(got) != sha256.Sum256(data) {
				t.Fatalf("object differs from the upload (%d bytes, want %d)", len(got), len(data))
			}
			if n := countTails(t, s); n != 0 {
				t.Fatalf("%d tails left after finish", n)
			}
			if st := pool.Stats(); st.InUse != 0 || st.Peak > budget {
				t.Fatalf("pool after the upload: %+v", st)
			}
			last := m.manifest()[len(m.manifest())-1]
			t.Logf("%d writes, %d parts, the last %d bytes at %d", writes, len(m.manifest()), last.Size, last.Offset)
		})
	}
}

// When the next part of the layout no longer fits the budget, Write stops
// there with ErrTooLarge, keeping every part before it. A length declared
// in time lets a last part shorter than the budget through.
func TestDeferredUploadBeyondTheBudget(t *testing.T) {
	cfg := smallTiers(t)
	const budget = 12 * MiB // parts 5, 5, 10, 10 MiB fit; 20 MiB does not
	pool := bufpool.New(budget, 0)
	s := newStore(t, cfg, pool)
	if got := s.MaxDeferredSize(); got != 30*MiB {
		t.Fatalf("MaxDeferredSize = %d, want 30 MiB", got)
	}
	data := randomBytes(50, 31*MiB+5)
	m := newMemUpload(t, s, "big", -1, "")
	err := s.Write(context.Background(), m.get(), bytes.NewReader(data), m.commit)
	if !errors.Is(err, backends.ErrTooLarge) || !strings.Contains(err.Error(), "memory budget") {
		t.Fatalf("err = %v, want ErrTooLarge naming the memory budget", err)
	}
	u := m.get()
	if u.Offset != 30*MiB || len(m.manifest()) != 4 || u.Handle[HandleTailKey] != "" {
		t.Fatalf("offset %d, %d parts, tail %q; want the four parts that fit", u.Offset, len(m.manifest()), u.Handle[HandleTailKey])
	}
	checkLayoutState(t, m, smallLayout)

	commits := m.commits
	if err := s.Write(context.Background(), m.get(), bytes.NewReader(data[30*MiB:30*MiB+1]), m.commit); !errors.Is(err, backends.ErrTooLarge) {
		t.Fatalf("one more byte without a length: err = %v", err)
	}
	if m.commits != commits || m.get().Offset != 30*MiB {
		t.Fatalf("a refused write committed: %d commits, offset %d", m.commits-commits, m.get().Offset)
	}

	declare(t, m, int64(len(data)))
	m.write(t, s, data[30*MiB:])
	m.finish(t, s)
	checkLayoutState(t, m, smallLayout)
	if !bytes.Equal(getObject(t, s, cfg.Prefix+"big"), data) {
		t.Fatal("object differs")
	}
	if st := pool.Stats(); st.InUse != 0 || st.Peak > budget {
		t.Fatalf("pool: %+v", st)
	}
}

// A deferred partial that crossed a tier boundary and ended in a tail is
// concatenated, into a final created while the length was unknown (as the
// gateway does when a partial is still deferred) and into one of known
// length.
func TestConcatWithADeferredPartial(t *testing.T) {
	cfg := smallTiers(t)
	s := newStore(t, cfg, nil)
	a := randomBytes(60, 23*MiB+5) // parts 5, 5, 10 MiB and a tail
	pa := newMemUpload(t, s, "pa", -1, "")
	pa.rec.Partial = true
	for _, cut := range [][2]int{{0, 7 * MiB}, {7 * MiB, 16 * MiB}, {16 * MiB, len(a)}} {
		pa.write(t, s, a[cut[0]:cut[1]])
	}
	if pa.get().Handle[HandleTailKey] == "" || len(pa.manifest()) != 3 {
		t.Fatalf("partial a: %d parts, tail %q", len(pa.manifest()), pa.get().Handle[HandleTailKey])
	}
	declare(t, pa, int64(len(a)))
	pa.finish(t, s)
	checkLayoutState(t, pa, smallLayout)

	b := randomBytes(61, 6*MiB)
	pb := newMemUpload(t, s, "pb", int64(len(b)), "")
	pb.write(t, s, b)
	pb.finish(t, s)
	c := randomBytes(62, MiB+3)
	pc := newMemUpload(t, s, "pc", -1, "")
	pc.write(t, s, c)
	declare(t, pc, int64(len(c)))
	pc.finish(t, s)

	partials := []*state.Upload{pa.get(), pb.get(), pc.get(), pa.get()}
	want := bytes.Join([][]byte{a, b, c, a}, nil)
	for _, deferred := range []bool{true, false} {
		id := "final-known"
		length := int64(len(want))
		if deferred {
			id, length = "final-deferred", -1
		}
		final := newFinalUpload(t, s, id, length, partials)
		if l := engineCfg.LayoutFromHandle(keys, final.get().Handle); l.Fixed() == deferred {
			t.Fatalf("%s: layout %+v", id, l)
		}
		u := final.get()
		u.Length = int64(len(want)) // the gateway passes the total once it is known
		if err := s.Concat(context.Background(), u, partials); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if !bytes.Equal(getObject(t, s, cfg.Prefix+id), want) {
			t.Fatalf("%s: concatenation differs", id)
		}
	}
}

// An upload created before layouts existed has only HandlePartSize; it
// keeps its fixed parts even through a Store that gives new deferred
// uploads the doubling layout.
func TestFixedHandleOfADeferredUploadKeepsItsParts(t *testing.T) {
	cfg := smallTiers(t)
	old := cfg
	old.MaxObjectSize = MaxParts * 5 * MiB // deferred uploads then plan fixed 5 MiB parts
	old.Checksum = ChecksumSHA256          // nor did multipart uploads have checksums
	m := newMemUpload(t, newStore(t, old, nil), "old", -1, "")
	if h := m.get().Handle; len(h) != 3 || h[HandlePartSize] != "5242880" {
		t.Fatalf("handle %v is not the original form", h)
	}
	s := newStore(t, cfg, nil)
	data := randomBytes(70, 23*MiB+1)
	m.write(t, s, data[:12*MiB])
	m.write(t, s, data[12*MiB:])
	checkLayoutState(t, m, fixedLayout(5*MiB))
	if len(m.manifest()) != 4 {
		t.Fatalf("%d parts, want four of 5 MiB", len(m.manifest()))
	}
	declare(t, m, int64(len(data)))
	m.finish(t, s)
	if !bytes.Equal(getObject(t, s, cfg.Prefix+"old"), data) {
		t.Fatal("object differs")
	}
}

// With equal_parts, deferred uploads keep planning fixed parts for the
// largest object: they need a budget for 525 MiB parts, and New says so.
func TestEqualPartsDeferredNeedsTheFullPart(t *testing.T) {
	cfg := testConfig(t)
	cfg.EqualParts = true
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	small, err := New(context.Background(), cfg, bufpool.New(64*MiB, 0), log)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "equal_parts") {
		t.Fatalf("no start-up warning: %s", logs.String())
	}
	if small.MaxDeferredSize() != 0 {
		t.Fatalf("MaxDeferredSize = %d", small.MaxDeferredSize())
	}
	if _, err := small.Create(context.Background(), &state.Upload{ID: "x", Length: -1}); !errors.Is(err, backends.ErrTooLarge) {
		t.Fatalf("deferred create with a 64 MiB budget: %v", err)
	}
	big := newStore(t, cfg, bufpool.New(600*MiB, 0))
	m := newMemUpload(t, big, "eq", -1, "")
	if h := m.get().Handle; h[HandlePartSize] != "550502400" || h[HandleLayout] != "" {
		t.Fatalf("equal-parts deferred handle %v, want fixed 525 MiB parts", h)
	}
}

// Without equal_parts New no longer warns about deferred lengths; it notes
// how far the budget lets them go.
func TestNewReportsTheDeferredLimit(t *testing.T) {
	cfg := testConfig(t)
	var logs bytes.Buffer
	s, err := New(context.Background(), cfg, bufpool.New(64*MiB, 0), slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	want := "max_deferred_size=" + strconv.FormatInt(s.MaxDeferredSize(), 10)
	if strings.Contains(out, "level=WARN") || !strings.Contains(out, want) || s.MaxDeferredSize() <= 0 {
		t.Fatalf("start-up log %q, want no warning and %s", out, want)
	}
}
