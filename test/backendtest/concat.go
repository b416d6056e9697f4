package backendtest

import (
	"testing"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/state"
)

// testConcat joins finished partial uploads server-side (concatenation
// extension), when the backend offers it.
func (s *suite) testConcat(t *testing.T) {
	b := s.h.New(t)
	c, ok := b.(backends.Concater)
	if !ok {
		t.Skipf("backend %T does not implement backends.Concater (concatenation extension)", b)
	}
	mp := s.mp
	cases := []struct {
		name  string
		sizes []int64
		// order lists indexes into sizes; a repeated index is a partial
		// listed twice.
		order []int
	}{
		{"SmallPartials", []int64{5, 6}, []int{0, 1}},
		{"AroundMinPart", []int64{mp - 1, mp + 1, 1}, []int{0, 1, 2}},
		{"PartialListedTwice", []int64{7, mp / 2}, []int{0, 1, 0}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			parts := make([]*upload, len(tc.sizes))
			srcs := make([][]byte, len(tc.sizes))
			for j, n := range tc.sizes {
				srcs[j] = randomBytes(uint64(100*i+j), n)
				parts[j] = s.create(t, b, n, func(u *state.Upload) { u.Partial, u.Concat = true, "partial" })
				parts[j].writeAll(srcs[j])
				parts[j].finish()
			}
			var want []byte
			var ids []string
			var partials []*state.Upload
			for _, j := range tc.order {
				want = append(want, srcs[j]...)
				snap := parts[j].snapshot()
				ids = append(ids, snap.ID)
				partials = append(partials, snap)
			}
			final := s.create(t, b, int64(len(want)), func(u *state.Upload) {
				u.Partials, u.Concat = ids, concatHeader(ids)
			})
			if err := c.Concat(t.Context(), final.snapshot(), partials); err != nil {
				t.Fatalf("Concat of %d partials (%d bytes): %v", len(partials), len(want), err)
			}
			final.apply(state.Change{Offset: int64(len(want)), Finished: true})
			final.verify(want)
			// Partials may be reused in other finals, so they must survive.
			for j, p := range parts {
				p.verify(srcs[j])
			}
		})
	}
}
