package s3store

import (
	"math/rand/v2"
	"strconv"
	"testing"

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

func deferredLayout(t *testing.T, c Config) layout {
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
func testLayouts(t *testing.T) map[string]layout {
	return map[string]layout{
		"fixed 5 MiB":         fixedLayout(5 * MiB),
		"fixed 525 MiB":       fixedLayout(525 * MiB),
		"default deferred":    deferredLayout(t, normalized(t, Config{})),
		"5 MiB, tiers of 2":   {base: 5 * MiB, tier: 2},
		"1 B, tiers of 1":     {base: 1, tier: 1},
		"5 GiB, tiers of 10":  {base: MaxPartSize, tier: 10},
		"3 MiB+1, tiers of 7": {base: 3*MiB + 1, tier: 7},
	}
}

// Parts follow each other without gaps, never shrink, stay within S3's
// limits, and at(offset) finds the part that part(number) describes.
func TestLayoutIsContiguousAndMonotone(t *testing.T) {
	for name, l := range testLayouts(t) {
		t.Run(name, func(t *testing.T) {
			prev := span{}
			for num := 1; num <= MaxParts+3; num++ {
				p := l.part(num)
				if p.num != num || p.start != prev.end() || p.size < prev.size || p.size < l.base || p.size > MaxPartSize {
					t.Fatalf("part %d = %+v after %+v", num, p, prev)
				}
				for _, off := range []int64{p.start, p.start + p.size/2, p.end() - 1} {
					if got := l.at(off); got != p {
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
			stored := layoutFromHandle(l.handleEntries())
			if stored != l {
				t.Fatalf("handle round trip: %+v became %+v", l, stored)
			}
			limit := l.capacity()
			for range 20000 {
				// Half the offsets near the start, where the tiers are short.
				off := rng.Int64N(limit)
				if rng.IntN(2) == 0 {
					off = rng.Int64N(min(limit, 64*GiB))
				}
				p := l.at(off)
				if off < p.start || off >= p.end() || p.num < 1 || p.num > MaxParts {
					t.Fatalf("at(%d) = %+v", off, p)
				}
				if q := l.part(p.num); q != p {
					t.Fatalf("at(%d) = %+v but part(%d) = %+v", off, p, p.num, q)
				}
				if again, viaHandle := l.at(off), stored.at(off); again != p || viaHandle != p {
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
		{"min 5 MiB", Config{PartSize: 5 * MiB}, 0},
		{"16 MiB", Config{PartSize: 16 * MiB}, 0},
		{"64 MiB", Config{PartSize: 64 * MiB}, 0},
		{"1 TiB max", Config{MaxObjectSize: TiB}, 0},
		{"100 GiB max", Config{MaxObjectSize: 100 * GiB}, 0},
		{"78 GiB + 1 max", Config{MaxObjectSize: MaxParts*8*MiB + 1}, 0},
		{"78 GiB max", Config{MaxObjectSize: MaxParts * 8 * MiB}, 8 * MiB},
		{"1 GiB parts", Config{PartSize: GiB}, GiB},
		{"equal parts", Config{EqualParts: true}, 525 * MiB},
		{"equal parts, 100 GiB max", Config{EqualParts: true, MaxObjectSize: 100 * GiB}, 11 * MiB},
	}
	for _, c := range cases {
		cfg := normalized(t, c.cfg)
		l := deferredLayout(t, cfg)
		switch {
		case c.wantFixed > 0:
			if l != fixedLayout(c.wantFixed) {
				t.Errorf("%s: layout %+v, want fixed %d MiB", c.name, l, c.wantFixed/MiB)
			}
		case l.fixed() || l.base != cfg.basePartSize():
			t.Errorf("%s: layout %+v, want doubling from %d", c.name, l, cfg.basePartSize())
		case (layout{base: l.base, tier: l.tier + 1}).capacity() >= cfg.MaxObjectSize:
			t.Errorf("%s: tiers of %d parts, but %d would still hold %d bytes", c.name, l.tier, l.tier+1, cfg.MaxObjectSize)
		}
		if got := l.capacity(); got < cfg.MaxObjectSize {
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
		if e := l.handleEntries(); len(e) != 1 || e[HandlePartSize] != strconv.FormatInt(ps, 10) {
			t.Errorf("length %d: handle entries %v", n, e)
		}
	}
}

// The default schedule, tier by tier: a few GiB stay at the preferred 8 MiB,
// 10,000 parts hold 5 TiB, and the budget decides how far a deferred upload
// gets. The log is the table in docs/s3.md.
func TestDefaultDeferredSchedule(t *testing.T) {
	l := deferredLayout(t, normalized(t, Config{}))
	if l.base != 8*MiB || l.tier != 1089 {
		t.Fatalf("default deferred layout %+v, want 8 MiB doubling every 1089 parts", l)
	}
	if l.String() != "doubling:8388608:1089" {
		t.Fatalf("handle form %q", l.String())
	}
	if p := l.at(8 * GiB); p.size != 8*MiB {
		t.Fatalf("an 8 GiB upload reaches part %+v", p)
	}
	var end int64
	for tier := 0; tier*l.tier < MaxParts; tier++ {
		first, last := l.part(tier*l.tier+1), l.part(min((tier+1)*l.tier, MaxParts))
		if first.size != 8*MiB<<tier || last.size != first.size {
			t.Fatalf("tier %d: parts %+v .. %+v", tier, first, last)
		}
		end = last.end()
		t.Logf("| %d–%d | %d MiB | %.2f GiB |", first.num, last.num, first.size/MiB, float64(end)/GiB)
	}
	if end < 5*TiB || end != l.capacity() {
		t.Fatalf("10,000 parts hold %d bytes", end)
	}
	// Parts up to the budget: tiers 0-3 (8..64 MiB) and 0-5 (8..256 MiB).
	for budget, tiers := range map[int64]int64{64 * MiB: 8 + 16 + 32 + 64, 256 * MiB: 8 + 16 + 32 + 64 + 128 + 256} {
		want := 1089 * tiers * MiB
		if got := l.reach(budget); got != want {
			t.Errorf("budget %d MiB: deferred uploads reach %d bytes, want %d", budget/MiB, got, want)
		}
		t.Logf("budget %d MiB: deferred uploads reach %.1f GiB", budget/MiB, float64(want)/GiB)
	}
	if l.reach(8*MiB-1) != 0 || l.reach(5*GiB) != l.capacity() {
		t.Errorf("reach below the first part %d, at the largest %d", l.reach(8*MiB-1), l.reach(5*GiB))
	}
}

func TestLayoutFromHandle(t *testing.T) {
	cases := []struct {
		handle map[string]string
		want   layout // zero: invalid
	}{
		{map[string]string{HandlePartSize: "5242880"}, fixedLayout(5 * MiB)}, // before layouts existed
		{map[string]string{HandleLayout: "doubling:5242880:2"}, layout{base: 5 * MiB, tier: 2}},
		{map[string]string{HandleLayout: "doubling:5242880:2", HandlePartSize: "8388608"}, layout{base: 5 * MiB, tier: 2}},
		{map[string]string{}, layout{}},
		{map[string]string{HandlePartSize: "x"}, layout{}},
		{map[string]string{HandleLayout: ""}, layout{}},
		{map[string]string{HandleLayout: "tripling:5242880:2"}, layout{}},
		{map[string]string{HandleLayout: "doubling:5242880"}, layout{}},
		{map[string]string{HandleLayout: "doubling:5242880:0"}, layout{}},
		{map[string]string{HandleLayout: "doubling:0:2"}, layout{}},
		{map[string]string{HandleLayout: "doubling:5242880:10001"}, layout{}},
		{map[string]string{HandleLayout: "doubling:6442450944:2"}, layout{}}, // 6 GiB parts
		{map[string]string{HandleLayout: "doubling:5242880:2:1"}, layout{}},
	}
	for _, c := range cases {
		got := layoutFromHandle(c.handle)
		if got != c.want || got.valid() != (c.want != layout{}) {
			t.Errorf("%v: layout %+v (valid %v), want %+v", c.handle, got, got.valid(), c.want)
		}
	}
}

// check accepts exactly the offsets where a part of the layout starts,
// plus a tail shorter than that part.
func TestCheckFollowsTheLayout(t *testing.T) {
	l := layout{base: 5 * MiB, tier: 2} // parts 5, 5, 10, 10, 20, ... MiB
	h := handle{key: "k", uploadID: "u", layout: l}
	withTail := func(size int64) handle {
		h := h
		h.tailKey, h.tailSize = "k.tail.x", size
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
		{handle{key: "k", uploadID: "u"}, 0, -1, false}, // no layout
	}
	for _, c := range cases {
		u := &state.Upload{ID: "id", Offset: c.offset, Length: c.length}
		if err := c.h.check(u); (err == nil) != c.ok {
			t.Errorf("offset %d, length %d, tail %d: err = %v", c.offset, c.length, c.h.tailSize, err)
		}
	}
}
