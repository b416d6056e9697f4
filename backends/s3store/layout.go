package s3store

import (
	"fmt"
	"strconv"
	"strings"
)

// layout maps the offsets of an upload to S3 parts. It is fixed at Create
// and kept in the handle, so part numbers, boundaries and sizes are a pure
// function of the stored record: any replica cuts the same parts, and a
// retried part replaces the earlier attempt.
//
// A fixed layout (tier == 0) has parts of base bytes. A doubling layout has
// tiers of tier parts; the parts of tier t are base·2^t bytes, at most
// MaxPartSize. Deferred-length uploads use it, so that small uploads keep
// small parts while MaxParts parts still reach MaxObjectSize.
type layout struct {
	base int64
	tier int
}

// span is one part of a layout.
type span struct {
	num   int // part number, from 1
	start int64
	size  int64
}

func (p span) end() int64 { return p.start + p.size }

// doublingPrefix starts the handle value of a doubling layout:
// "doubling:<base bytes>:<parts per tier>".
const doublingPrefix = "doubling:"

func fixedLayout(size int64) layout { return layout{base: size} }

// valid reports whether l can cut parts; a handle without a layout has the
// zero layout.
func (l layout) valid() bool {
	return l.base > 0 && l.base <= MaxPartSize && l.tier >= 0 && l.tier <= MaxParts
}

func (l layout) fixed() bool { return l.tier == 0 }

// tierSize is the size of the parts of tier t.
func (l layout) tierSize(t int) int64 {
	if t >= 63 || l.base > MaxPartSize>>t {
		return MaxPartSize
	}
	return l.base << t
}

// at returns the part containing offset off (>= 0). Past the last tier the
// parts stay at MaxPartSize; callers refuse numbers above MaxParts.
func (l layout) at(off int64) span {
	if l.fixed() {
		k := off / l.base
		return span{num: int(k) + 1, start: k * l.base, size: l.base}
	}
	var start int64
	for t := 0; ; t++ {
		size := l.tierSize(t)
		if size == MaxPartSize || off < start+int64(l.tier)*size {
			k := (off - start) / size
			return span{num: t*l.tier + int(k) + 1, start: start + k*size, size: size}
		}
		start += int64(l.tier) * size
	}
}

// part returns part number num (>= 1).
func (l layout) part(num int) span {
	if l.fixed() {
		return span{num: num, start: int64(num-1) * l.base, size: l.base}
	}
	var start int64
	for t := 0; ; t++ {
		size := l.tierSize(t)
		if size == MaxPartSize || num <= (t+1)*l.tier {
			k := int64(num - 1 - t*l.tier)
			return span{num: num, start: start + k*size, size: size}
		}
		start += int64(l.tier) * size
	}
}

// capacity is how many bytes MaxParts parts of l hold.
func (l layout) capacity() int64 { return l.part(MaxParts).end() }

// reach is the end of the last part (within MaxParts) whose size is at most
// budget: how far an upload gets when every part is buffered whole. Part
// sizes never decrease, so the parts that fit are a prefix.
func (l layout) reach(budget int64) int64 {
	lo, hi := 0, MaxParts // part lo fits (0: none), part hi+1 does not
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if l.part(mid).size <= budget {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	if lo == 0 {
		return 0
	}
	return l.part(lo).end()
}

// String is the handle form of a doubling layout ("" for a fixed one, which
// is stored as HandlePartSize like before layouts existed).
func (l layout) String() string {
	if l.fixed() {
		return ""
	}
	return doublingPrefix + strconv.FormatInt(l.base, 10) + ":" + strconv.Itoa(l.tier)
}

// handleEntries returns the handle keys that record l. Fixed layouts keep
// the original form, so older replicas read them; a doubling layout has no
// HandlePartSize, so a replica that does not know layouts refuses the
// upload instead of cutting it wrongly.
func (l layout) handleEntries() map[string]string {
	if l.fixed() {
		return map[string]string{HandlePartSize: strconv.FormatInt(l.base, 10)}
	}
	return map[string]string{HandleLayout: l.String()}
}

// layoutFromHandle reads the layout of a handle: HandleLayout when present,
// else the fixed HandlePartSize. A missing or malformed value gives the
// zero (invalid) layout, which check reports.
func layoutFromHandle(hv map[string]string) layout {
	if v, ok := hv[HandleLayout]; ok {
		l, err := parseLayout(v)
		if err != nil {
			return layout{}
		}
		return l
	}
	ps, _ := strconv.ParseInt(hv[HandlePartSize], 10, 64)
	return fixedLayout(ps)
}

func parseLayout(v string) (layout, error) {
	rest, ok := strings.CutPrefix(v, doublingPrefix)
	if !ok {
		return layout{}, fmt.Errorf("s3store: unknown part layout %q", v)
	}
	b, t, ok := strings.Cut(rest, ":")
	base, err1 := strconv.ParseInt(b, 10, 64)
	tier, err2 := strconv.Atoi(t)
	l := layout{base: base, tier: tier}
	if !ok || err1 != nil || err2 != nil || tier < 1 || !l.valid() {
		return layout{}, fmt.Errorf("s3store: malformed part layout %q", v)
	}
	return l, nil
}
