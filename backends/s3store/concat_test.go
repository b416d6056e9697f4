package s3store

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/backends/bufpool"
	"github.com/tusgate/tusgate/backends/multipart"
)

// checkPlan verifies a concat plan against the rules S3 and tusgate impose:
// the parts reproduce the sources' bytes in order; every part but the last
// is at least partSize (exactly partSize in equal mode) and at most 5 GiB;
// a copied part lies in one source and is either the whole source or taken
// from a source large enough for a ranged copy; numbers run 1..n.
func checkPlan(t *testing.T, srcs []multipart.Source, ps int64, equal bool, plan []multipart.ConcatPart) {
	t.Helper()
	size := map[string]int64{}
	var total int64
	for _, s := range srcs {
		size[s.Key] = s.Size
		total += s.Size
	}
	var got int64
	si, soff := 0, int64(0) // expected source and offset
	for i, p := range plan {
		if p.Number != i+1 {
			t.Fatalf("part %d numbered %d", i+1, p.Number)
		}
		lastPart := i == len(plan)-1
		if !lastPart && (p.Size < ps || (equal && p.Size != ps)) {
			t.Fatalf("part %d has %d bytes, part size %d (equal=%v)", p.Number, p.Size, ps, equal)
		}
		if p.Size > MaxPartSize || p.Size <= 0 {
			t.Fatalf("part %d has %d bytes", p.Number, p.Size)
		}
		if p.Copy {
			seg := p.Segs[0]
			if len(p.Segs) != 1 || seg.Off+seg.Len > size[seg.Key] {
				t.Fatalf("copy part %d: %+v", p.Number, p.Segs)
			}
			if seg.Whole != (seg.Off == 0 && seg.Len == size[seg.Key]) || (!seg.Whole && size[seg.Key] <= copyRangeMin) {
				t.Fatalf("copy part %d: ranged copy of a %d-byte source", p.Number, size[seg.Key])
			}
		}
		var sum int64
		for _, seg := range p.Segs {
			for si < len(srcs) && soff == srcs[si].Size {
				si, soff = si+1, 0
			}
			if si >= len(srcs) || seg.Key != srcs[si].Key || seg.Off != soff || seg.Len <= 0 {
				t.Fatalf("part %d segment %+v, expected %s at %d", p.Number, seg, srcs[min(si, len(srcs)-1)].Key, soff)
			}
			soff += seg.Len
			if soff > srcs[si].Size {
				t.Fatalf("segment %+v runs past its source", seg)
			}
			sum += seg.Len
		}
		if sum != p.Size {
			t.Fatalf("part %d segments sum to %d, size %d", p.Number, sum, p.Size)
		}
		got += p.Size
	}
	if got != total {
		t.Fatalf("plan covers %d bytes of %d", got, total)
	}
	if total > 0 && int64(len(plan)) > (total+ps-1)/ps {
		t.Fatalf("%d parts for %d bytes at part size %d", len(plan), total, ps)
	}
}

func TestPlanConcatCases(t *testing.T) {
	const ps = 5 * MiB
	cases := map[string][]multipart.Source{
		"all small":         {{Key: "a", Size: 1}, {Key: "b", Size: 2 * MiB}, {Key: "c", Size: 3}},
		"all large":         {{Key: "a", Size: 12 * MiB}, {Key: "b", Size: 5 * MiB}, {Key: "c", Size: 100 * MiB}},
		"small between":     {{Key: "a", Size: 6 * MiB}, {Key: "b", Size: 1 * MiB}, {Key: "c", Size: 12 * MiB}, {Key: "d", Size: 0}, {Key: "e", Size: 3 * KiB}},
		"listed twice":      {{Key: "a", Size: 6 * MiB}, {Key: "a", Size: 6 * MiB}, {Key: "b", Size: 4 * MiB}, {Key: "b", Size: 4 * MiB}},
		"exactly part size": {{Key: "a", Size: ps}, {Key: "b", Size: ps}},
		"only empty":        {{Key: "a", Size: 0}},
		"last small":        {{Key: "a", Size: 20 * MiB}, {Key: "b", Size: 10}},
		"first small":       {{Key: "a", Size: 10}, {Key: "b", Size: 20 * MiB}},
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
	srcs := []multipart.Source{{Key: "a", Size: 100 * MiB}, {Key: "b", Size: 7 * MiB}, {Key: "c", Size: 1 * MiB}}
	plan := planConcat(srcs, 5*MiB, false)
	checkPlan(t, srcs, 5*MiB, false, plan)
	if len(plan) != 3 || !plan[0].Copy || !plan[0].Segs[0].Whole || !plan[1].Copy || !plan[2].Copy {
		t.Fatalf("want three whole-object copies, got %+v", plan)
	}
}

func TestPlanConcatRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	sizes := []int64{0, 1, 100, MiB, 5*MiB - 1, 5 * MiB, 5*MiB + 1, 6 * MiB, 11 * MiB, 40 * MiB}
	for i := range 2000 {
		n := 1 + rng.IntN(8)
		srcs := make([]multipart.Source, n)
		for j := range srcs {
			if j > 0 && rng.IntN(5) == 0 {
				srcs[j] = srcs[rng.IntN(j)] // the same partial listed again
				continue
			}
			srcs[j] = multipart.Source{Key: fmt.Sprint("p", j), Size: sizes[rng.IntN(len(sizes))] + rng.Int64N(3)}
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
	s, err := multipart.New(cfg.engineConfig(), nil, bufpool.New(64*MiB, 0), nil)
	if err != nil {
		t.Fatal(err)
	}
	doubling := deferredLayout(t, cfg)
	cases := []struct {
		l     multipart.Layout
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
		got, err := s.ConcatPartSize(c.l, c.total)
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

// planConcat plans with S3's limits and copies offered.
func planConcat(srcs []multipart.Source, ps int64, equal bool) []multipart.ConcatPart {
	c := Config{StoreOptions: multipart.StoreOptions{EqualParts: equal}}.engineConfig()
	return c.PlanConcat(srcs, ps, true)
}
