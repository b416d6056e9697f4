package s3store

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/backends/bufpool"
)

// checkPlan verifies a concat plan against the rules S3 and tusgate impose:
// the parts reproduce the sources' bytes in order; every part but the last
// is at least partSize (exactly partSize in equal mode) and at most 5 GiB;
// a copied part lies in one source and is either the whole source or taken
// from a source large enough for a ranged copy; numbers run 1..n.
func checkPlan(t *testing.T, srcs []source, ps int64, equal bool, plan []concatPart) {
	t.Helper()
	size := map[string]int64{}
	var total int64
	for _, s := range srcs {
		size[s.key] = s.size
		total += s.size
	}
	var got int64
	si, soff := 0, int64(0) // expected source and offset
	for i, p := range plan {
		if p.number != i+1 {
			t.Fatalf("part %d numbered %d", i+1, p.number)
		}
		lastPart := i == len(plan)-1
		if !lastPart && (p.size < ps || (equal && p.size != ps)) {
			t.Fatalf("part %d has %d bytes, part size %d (equal=%v)", p.number, p.size, ps, equal)
		}
		if p.size > MaxPartSize || p.size <= 0 {
			t.Fatalf("part %d has %d bytes", p.number, p.size)
		}
		if p.copy {
			seg := p.segs[0]
			if len(p.segs) != 1 || seg.off+seg.len > size[seg.key] {
				t.Fatalf("copy part %d: %+v", p.number, p.segs)
			}
			if seg.whole != (seg.off == 0 && seg.len == size[seg.key]) || (!seg.whole && size[seg.key] <= copyRangeMin) {
				t.Fatalf("copy part %d: ranged copy of a %d-byte source", p.number, size[seg.key])
			}
		}
		var sum int64
		for _, seg := range p.segs {
			for si < len(srcs) && soff == srcs[si].size {
				si, soff = si+1, 0
			}
			if si >= len(srcs) || seg.key != srcs[si].key || seg.off != soff || seg.len <= 0 {
				t.Fatalf("part %d segment %+v, expected %s at %d", p.number, seg, srcs[min(si, len(srcs)-1)].key, soff)
			}
			soff += seg.len
			if soff > srcs[si].size {
				t.Fatalf("segment %+v runs past its source", seg)
			}
			sum += seg.len
		}
		if sum != p.size {
			t.Fatalf("part %d segments sum to %d, size %d", p.number, sum, p.size)
		}
		got += p.size
	}
	if got != total {
		t.Fatalf("plan covers %d bytes of %d", got, total)
	}
	if total > 0 && int64(len(plan)) > ceilDiv(total, ps) {
		t.Fatalf("%d parts for %d bytes at part size %d", len(plan), total, ps)
	}
}

func TestPlanConcatCases(t *testing.T) {
	const ps = 5 * MiB
	cases := map[string][]source{
		"all small":         {{"a", 1}, {"b", 2 * MiB}, {"c", 3}},
		"all large":         {{"a", 12 * MiB}, {"b", 5 * MiB}, {"c", 100 * MiB}},
		"small between":     {{"a", 6 * MiB}, {"b", 1 * MiB}, {"c", 12 * MiB}, {"d", 0}, {"e", 3 * KiB}},
		"listed twice":      {{"a", 6 * MiB}, {"a", 6 * MiB}, {"b", 4 * MiB}, {"b", 4 * MiB}},
		"exactly part size": {{"a", ps}, {"b", ps}},
		"only empty":        {{"a", 0}},
		"last small":        {{"a", 20 * MiB}, {"b", 10}},
		"first small":       {{"a", 10}, {"b", 20 * MiB}},
	}
	for name, srcs := range cases {
		for _, equal := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/equal=%v", name, equal), func(t *testing.T) {
				checkPlan(t, srcs, ps, equal, planConcat(srcs, ps, equal))
			})
		}
	}
}

func TestPlanConcatCopiesWholePartialsWhenPossible(t *testing.T) {
	srcs := []source{{"a", 100 * MiB}, {"b", 7 * MiB}, {"c", 1 * MiB}}
	plan := planConcat(srcs, 5*MiB, false)
	checkPlan(t, srcs, 5*MiB, false, plan)
	if len(plan) != 3 || !plan[0].copy || !plan[0].segs[0].whole || !plan[1].copy || !plan[2].copy {
		t.Fatalf("want three whole-object copies, got %+v", plan)
	}
}

func TestPlanConcatRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	sizes := []int64{0, 1, 100, MiB, 5*MiB - 1, 5 * MiB, 5*MiB + 1, 6 * MiB, 11 * MiB, 40 * MiB}
	for i := range 2000 {
		n := 1 + rng.IntN(8)
		srcs := make([]source, n)
		for j := range srcs {
			if j > 0 && rng.IntN(5) == 0 {
				srcs[j] = srcs[rng.IntN(j)] // the same partial listed again
				continue
			}
			srcs[j] = source{key: fmt.Sprint("p", j), size: sizes[rng.IntN(len(sizes))] + rng.Int64N(3)}
		}
		ps := []int64{5 * MiB, 8 * MiB}[rng.IntN(2)]
		equal := i%2 == 0
		checkPlan(t, srcs, ps, equal, planConcat(srcs, ps, equal))
	}
}

// A final upload created with a deferred length has the doubling layout;
// its concatenation aims for the fixed part size of the now known total,
// which keeps assembled parts small, and refuses one the budget cannot hold.
func TestConcatPartSize(t *testing.T) {
	cfg := normalized(t, Config{})
	s := &Store{cfg: cfg, pool: bufpool.New(64*MiB, 0)}
	doubling := deferredLayout(t, cfg)
	cases := []struct {
		l     layout
		total int64
		want  int64 // 0: ErrTooLarge
	}{
		{fixedLayout(8 * MiB), 50 * GiB, 8 * MiB},
		{fixedLayout(11 * MiB), 100 * GiB, 11 * MiB},
		{doubling, 3 * GiB, 8 * MiB},
		{doubling, 200 * GiB, 21 * MiB}, // the doubling layout is at 128 MiB parts there
		{doubling, TiB, 0},              // 105 MiB parts
		{fixedLayout(525 * MiB), 5 * MiB, 0},
	}
	for _, c := range cases {
		got, err := s.concatPartSize(c.l, c.total)
		if c.want == 0 {
			if !errors.Is(err, backends.ErrTooLarge) {
				t.Errorf("%+v, %d bytes: %d, %v; want ErrTooLarge", c.l, c.total, got, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%+v, %d bytes: %d, %v; want %d", c.l, c.total, got, err, c.want)
		}
	}
}
