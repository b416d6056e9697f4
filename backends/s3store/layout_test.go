package s3store

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/tusgate/tusgate/backends/bufpool"
	"github.com/tusgate/tusgate/backends/multipart"
	"github.com/tusgate/tusgate/state"
)

func normalized(t *testing.T, c Config) Config {
	t.Helper()
	c.Bucket = "b"
	c, err := c.normalize()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func deferredLayout(t *testing.T, c Config) multipart.Layout {
	t.Helper()
	l, err := c.layoutFor(-1)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// testLayouts are layouts of every shape: fixed, the defaults, the small
// test schedule, a 1-byte base that grows for 33 tiers, parts that start
// at the 5 GiB maximum.
func testLayouts(t *testing.T) map[string]multipart.Layout {
	return map[string]multipart.Layout{
		"fixed 5 MiB":         fixedLayout(5 * MiB),
		"fixed 525 MiB":       fixedLayout(525 * MiB),
		"default deferred":    deferredLayout(t, normalized(t, Config{})),
		"5 MiB, tiers of 2":   doubling(5*MiB, 2),
		"1 B, tiers of 1":     doubling(1, 1),
		"5 GiB, tiers of 10":  doubling(MaxPartSize, 10),
		"3 MiB+1, tiers of 7": doubling(3*MiB+1, 7),
	}
}

// Parts follow each other without gaps, never shrink, stay within S3's
// limits, and at(offset) finds the part that part(number) describes.
func TestLayoutIsContiguousAndMonotone(t *testing.T) {
	for name, l := range testLayouts(t) {
		t.Run(name, func(t *testing.T) {
			prev := multipart.Span{}
			for num := 1; num <= MaxParts+3; num++ {
				p := l.Part(num)
				if p.Num != num || p.Start != prev.End() || p.Size < prev.Size || p.Size < l.Base() || p.Size > MaxPartSize {
					t.Fatalf("part %d = %+v after %+v", num, p, prev)
				}
				for _, off := range []int64{p.Start, p.Start + p.Size/2, p.End() - 1} {
					if got := l.At(off); got != p {
						t.Fatalf("at(%d) = %+v, want part %+v", off, got, p)
					}
				}
				prev = p
			}
		})
	}
}

// Random offsets map to the part containing them and back, the same way
// every time and after the layout went through the handle.
func TestLayoutRoundTripsRandomOffsets(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for name, l := range testLayouts(t) {
		t.Run(name, func(t *testing.T) {
			stored := engineCfg.LayoutFromHandle(keys, l.HandleEntries(keys))
			if stored != l {
				t.Fatalf("handle round trip: %+v became %+v", l, stored)
			}
			limit := l.Capacity()
			for range 20000 {
				// Half the offsets near the start, where the tiers are short.
				off := rng.Int64N(limit)
				if rng.IntN(2) == 0 {
					off = rng.Int64N(min(limit, 64*GiB))
				}
				p := l.At(off)
				if off < p.Start || off >= p.End() || p.Num < 1 || p.Num > MaxParts {
					t.Fatalf("at(%d) = %+v", off, p)
				}
				if q := l.Part(p.Num); q != p {
					t.Fatalf("at(%d) = %+v but part(%d) = %+v", off, p, p.Num, q)
				}
				if again, viaHandle := l.At(off), stored.At(off); again != p || viaHandle != p {
					t.Fatalf("at(%d) is not pure: %+v, %+v, %+v", off, p, again, viaHandle)
				}
			}
		})
	}
}

// The deferred layout holds max_object_size in 10,000 parts with the
// longest tiers that manage it, and is fixed when preferred-size parts
// are enough or equal parts are required.
func TestDeferredLayoutCoversTheMaximum(t *testing.T) {
	cases := []struct {
		name      string
		cfg       Config
		wantFixed int64 // part size of an expected fixed layout
	}{
		{"defaults", Config{}, 0},
		{"min 5 MiB", Config{StoreOptions: multipart.StoreOptions{PartSize: 5 * MiB}}, 0},
		{"16 MiB", Config{StoreOptions: multipart.StoreOptions{PartSize: 16 * MiB}}, 0},
		{"64 MiB", Config{StoreOptions: multipart.StoreOptions{PartSize: 64 * MiB}}, 0},
		{"1 TiB max", Config{StoreOptions: multipart.StoreOptions{MaxObjectSize: TiB}}, 0},
		{"100 GiB max", Config{StoreOptions: multipart.StoreOptions{MaxObjectSize: 100 * GiB}}, 0},
		{"78 GiB + 1 max", Config{StoreOptions: multipart.StoreOptions{MaxObjectSize: MaxParts*8*MiB + 1}}, 0},
		{"78 GiB max", Config{StoreOptions: multipart.StoreOptions{MaxObjectSize: MaxParts * 8 * MiB}}, 8 * MiB},
		{"1 GiB parts", Config{StoreOptions: multipart.StoreOptions{PartSize: GiB}}, GiB},
		{"equal parts", Config{StoreOptions: multipart.StoreOptions{EqualParts: true}}, 525 * MiB},
		{"equal parts, 100 GiB max", Config{StoreOptions: multipart.StoreOptions{EqualParts: true, MaxObjectSize: 100 * GiB}}, 11 * MiB},
	}
	for _, c := range cases {
		cfg := normalized(t, c.cfg)
		l := deferredLayout(t, cfg)
		switch {
		case c.wantFixed > 0:
			if l != fixedLayout(c.wantFixed) {
				t.Errorf("%s: layout %+v, want fixed %d MiB", c.name, l, c.wantFixed/MiB)
			}
		case l.Fixed() || l.Base() != cfg.engineConfig().BasePartSize():
			t.Errorf("%s: layout %+v, want doubling from %d", c.name, l, cfg.engineConfig().BasePartSize())
		case (doubling(l.Base(), l.Tier()+1)).Capacity() >= cfg.MaxObjectSize:
			t.Errorf("%s: tiers of %d parts, but %d would still hold %d bytes", c.name, l.Tier(), l.Tier()+1, cfg.MaxObjectSize)
		}
		if got := l.Capacity(); got < cfg.MaxObjectSize {
			t.Errorf("%s: %+v holds %d bytes in %d parts, less than %d", c.name, l, got, MaxParts, cfg.MaxObjectSize)
		}
	}
}

// Known lengths keep the fixed part size they always had.
func TestKnownLengthsKeepTheFixedLayout(t *testing.T) {
	cfg := normalized(t, Config{})
	for _, n := range []int64{0, 1, 5 * MiB, 50 * GiB, 100 * GiB, 5 * TiB} {
		l, err := cfg.layoutFor(n)
		ps, _ := cfg.PartSizeFor(n)
		if err != nil || l != fixedLayout(ps) {
			t.Errorf("length %d: layout %+v, %v; want fixed %d", n, l, err, ps)
		}
		if e := l.HandleEntries(keys); len(e) != 1 || e[HandlePartSize] != strconv.FormatInt(ps, 10) {
			t.Errorf("length %d: handle entries %v", n, e)
		}
	}
}

// The default schedule, tier by tier: a few GiB stay at the preferred 8 MiB,
// 10,000 parts hold 5 TiB, and the budget decides how far a deferred upload
// gets. The log is the table in docs/s3.md.
func TestDefaultDeferredSchedule(t *testing.T) {
	l := deferredLayout(t, normalized(t, Config{}))
	if l.Base() != 8*MiB || l.Tier() != 1089 {
		t.Fatalf("default deferred layout %+v, want 8 MiB doubling every 1089 parts", l)
	}
	if l.String() != "doubling:8388608:1089" {
		t.Fatalf("handle form %q", l.String())
	}
	if p := l.At(8 * GiB); p.Size != 8*MiB {
		t.Fatalf("an 8 GiB upload reaches part %+v", p)
	}
	var end int64
	for tier := 0; tier*l.Tier() < MaxParts; tier++ {
		first, last := l.Part(tier*l.Tier()+1), l.Part(min((tier+1)*l.Tier(), MaxParts))
		if first.Size != 8*MiB<<tier || last.Size != first.Size {
			t.Fatalf("tier %d: parts %+v .. %+v", tier, first, last)
		}
		end = last.End()
		t.Logf("| %d–%d | %d MiB | %.2f GiB |", first.Num, last.Num, first.Size/MiB, float64(end)/GiB)
	}
	if end < 5*TiB || end != l.Capacity() {
		t.Fatalf("10,000 parts hold %d bytes", end)
	}
	// Parts up to the budget: tiers 0-3 (8..64 MiB) and 0-5 (8..256 MiB).
	for budget, tiers := range map[int64]int64{64 * MiB: 8 + 16 + 32 + 64, 256 * MiB: 8 + 16 + 32 + 64 + 128 + 256} {
		want := 1089 * tiers * MiB
		if got := l.Reach(budget); got != want {
			t.Errorf("budget %d MiB: deferred uploads reach %d bytes, want %d", budget/MiB, got, want)
		}
		t.Logf("budget %d MiB: deferred uploads reach %.1f GiB", budget/MiB, float64(want)/GiB)
	}
	if l.Reach(8*MiB-1) != 0 || l.Reach(5*GiB) != l.Capacity() {
		t.Errorf("reach below the first part %d, at the largest %d", l.Reach(8*MiB-1), l.Reach(5*GiB))
	}
}

func TestLayoutFromHandle(t *testing.T) {
	cases := []struct {
		handle map[string]string
		want   multipart.Layout // zero: invalid
	}{
		{map[string]string{HandlePartSize: "5242880"}, fixedLayout(5 * MiB)}, // before layouts existed
		{map[string]string{HandleLayout: "doubling:5242880:2"}, doubling(5*MiB, 2)},
		{map[string]string{HandleLayout: "doubling:5242880:2", HandlePartSize: "8388608"}, doubling(5*MiB, 2)},
		{map[string]string{}, multipart.Layout{}},
		{map[string]string{HandlePartSize: "x"}, multipart.Layout{}},
		{map[string]string{HandleLayout: ""}, multipart.Layout{}},
		{map[string]string{HandleLayout: "tripling:5242880:2"}, multipart.Layout{}},
		{map[string]string{HandleLayout: "doubling:5242880"}, multipart.Layout{}},
		{map[string]string{HandleLayout: "doubling:5242880:0"}, multipart.Layout{}},
		{map[string]string{HandleLayout: "doubling:0:2"}, multipart.Layout{}},
		{map[string]string{HandleLayout: "doubling:5242880:10001"}, multipart.Layout{}},
		{map[string]string{HandleLayout: "doubling:6442450944:2"}, multipart.Layout{}}, // 6 GiB parts
		{map[string]string{HandleLayout: "doubling:5242880:2:1"}, multipart.Layout{}},
	}
	for _, c := range cases {
		got := engineCfg.LayoutFromHandle(keys, c.handle)
		if got != c.want || got.Valid() != (c.want != multipart.Layout{}) {
			t.Errorf("%v: layout %+v (valid %v), want %+v", c.handle, got, got.Valid(), c.want)
		}
	}
}

// check accepts exactly the offsets where a part of the layout starts,
// plus a tail shorter than that part.
func TestCheckFollowsTheLayout(t *testing.T) {
	l := doubling(5*MiB, 2) // parts 5, 5, 10, 10, 20, ... MiB
	h := handle{Key: "k", UploadID: "u", Layout: l}
	withTail := func(size int64) handle {
		h := h
		h.TailKey, h.TailSize = "k.tail.x", size
		return h
	}
	cases := []struct {
		h      handle
		offset int64
		length int64
		ok     bool
	}{
		{h, 0, -1, true},
		{h, 10 * MiB, -1, true},
		{h, 20 * MiB, -1, true},
		{h, 30 * MiB, -1, true},
		{h, 15 * MiB, -1, false}, // inside the 10 MiB part 3
		{withTail(9 * MiB), 19 * MiB, -1, true},
		{withTail(10 * MiB), 20 * MiB, -1, false}, // a tail as long as its part
		{withTail(9 * MiB), 24 * MiB, -1, false},  // a tail not starting at a part
		{withTail(9 * MiB), 19 * MiB, 19 * MiB, true},
		{h, 17 * MiB, 17 * MiB, true}, // complete: the last part may be short
		{h, 17 * MiB, 20 * MiB, false},
		{handle{Key: "k", UploadID: "u"}, 0, -1, false}, // no layout
	}
	for _, c := range cases {
		u := &state.Upload{ID: "id", Offset: c.offset, Length: c.length}
		if err := c.h.Check(u); (err == nil) != c.ok {
			t.Errorf("offset %d, length %d, tail %d: err = %v", c.offset, c.length, c.h.TailSize, err)
		}
	}
}

// The engine with S3's limits, for layouts built by hand.
var (
	engineCfg = Config{}.engineConfig()
	keys      = multipart.KeysFor("s3")
)

func fixedLayout(size int64) multipart.Layout { return engineCfg.FixedLayout(size) }

func doubling(base int64, tier int) multipart.Layout { return engineCfg.DoublingLayout(base, tier) }

// The engine's keys in the s3 namespace are the ones existing records
// carry, so uploads started before the engine existed keep working.
func TestHandleKeysOfExistingRecords(t *testing.T) {
	k := multipart.KeysFor("s3")
	got := []string{k.Key, k.UploadID, k.PartSize, k.Layout, k.TailKey, k.TailSize, k.StaleTail, k.Checksum}
	want := []string{HandleKey, HandleUploadID, HandlePartSize, HandleLayout, HandleTailKey, HandleTailSize, HandleStaleTail, HandleChecksum}
	if !slices.Equal(got, want) {
		t.Fatalf("engine keys %v, records have %v", got, want)
	}
	// A record as written before: fixed part size, a tail.
	s := &Store{}
	eng, err := multipart.New(normalized(t, Config{}).engineConfig(), nil, bufpool.New(MiB, 0), nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Engine = eng
	u := &state.Upload{ID: "old", Offset: 10*MiB + 7, Length: 20 * MiB, Handle: map[string]string{
		"s3.key": "p/old", "s3.upload_id": "UPID", "s3.part_size": "5242880",
		"s3.tail_key": "p/old.tail.10485767.X", "s3.tail_size": "7", "s3.checksum": "crc32c",
	}}
	h := s.HandleOf(u)
	if h.Key != "p/old" || h.UploadID != "UPID" || h.Layout != fixedLayout(5*MiB) || h.TailSize != 7 || h.Checksum != "crc32c" {
		t.Fatalf("handle %+v", h)
	}
	if err := h.Check(u); err != nil {
		t.Fatal(err)
	}
}
