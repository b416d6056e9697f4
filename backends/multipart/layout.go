package multipart

import (
	"fmt"
	"strconv"
	"strings"
)

// Layout maps the offsets of an upload to parts. It is fixed at Create and
// kept in the handle, so part numbers, boundaries and sizes are a pure
// function of the stored record: any replica cuts the same parts, and a
// retried part replaces the earlier attempt.
//
// A fixed layout (tier == 0) has parts of base bytes. A doubling layout has
// tiers of tier parts; the parts of tier t are base·2^t bytes, at most the
// store's largest part. Deferred-length uploads use it, so that small
// uploads keep small parts while MaxParts parts still reach MaxObjectSize.
type Layout struct {
	base int64
	tier int
	// The store's limits: the largest part and the most parts.
	maxPart  int64
	maxParts int
}

// Span is one part of a layout.
type Span struct {
	Num   int // part number, from 1
	Start int64
	Size  int64
}

// End is the offset after the part.
func (p Span) End() int64 { return p.Start + p.Size }

// doublingPrefix starts the handle value of a doubling layout:
// "doubling:<base bytes>:<parts per tier>".
const doublingPrefix = "doubling:"

// FixedLayout has parts of size bytes under the limits of c.
func (c Config) FixedLayout(size int64) Layout {
	return Layout{base: size, maxPart: c.MaxPartSize, maxParts: c.MaxParts}
}

// DoublingLayout has tiers of tier parts from base bytes under the limits
// of c.
func (c Config) DoublingLayout(base int64, tier int) Layout {
	return Layout{base: base, tier: tier, maxPart: c.MaxPartSize, maxParts: c.MaxParts}
}

// Base is the size of the first parts.
func (l Layout) Base() int64 { return l.base }

// Valid reports whether l can cut parts; a handle without a layout has the
// zero layout.
func (l Layout) Valid() bool {
	return l.base > 0 && l.base <= l.maxPart && l.tier >= 0 && l.tier <= l.maxParts
}

// Fixed reports whether every part has the same size.
func (l Layout) Fixed() bool { return l.tier == 0 }

// tierSize is the size of the parts of tier t.
func (l Layout) tierSize(t int) int64 {
	if t >= 63 || l.base > l.maxPart>>t {
		return l.maxPart
	}
	return l.base << t
}

// At returns the part containing offset off (>= 0). Past the last tier the
// parts stay at the largest size; callers refuse numbers above MaxParts.
func (l Layout) At(off int64) Span {
	if l.Fixed() {
		k := off / l.base
		return Span{Num: int(k) + 1, Start: k * l.base, Size: l.base}
	}
	var start int64
	for t := 0; ; t++ {
		size := l.tierSize(t)
		if size == l.maxPart || off < start+int64(l.tier)*size {
			k := (off - start) / size
			return Span{Num: t*l.tier + int(k) + 1, Start: start + k*size, Size: size}
		}
		start += int64(l.tier) * size
	}
}

// Part returns part number num (>= 1).
func (l Layout) Part(num int) Span {
	if l.Fixed() {
		return Span{Num: num, Start: int64(num-1) * l.base, Size: l.base}
	}
	var start int64
	for t := 0; ; t++ {
		size := l.tierSize(t)
		if size == l.maxPart || num <= (t+1)*l.tier {
			k := int64(num - 1 - t*l.tier)
			return Span{Num: num, Start: start + k*size, Size: size}
		}
		start += int64(l.tier) * size
	}
}

// Capacity is how many bytes MaxParts parts of l hold.
func (l Layout) Capacity() int64 { return l.Part(l.maxParts).End() }

// Reach is the end of the last part (within MaxParts) whose size is at most
// budget: how far an upload gets when every part is buffered whole. Part
// sizes never decrease, so the parts that fit are a prefix.
func (l Layout) Reach(budget int64) int64 {
	lo, hi := 0, l.maxParts // part lo fits (0: none), part hi+1 does not
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if l.Part(mid).Size <= budget {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	if lo == 0 {
		return 0
	}
	return l.Part(lo).End()
}

// String is the handle form of a doubling layout ("" for a fixed one, which
// is stored as the part size like before layouts existed).
func (l Layout) String() string {
	if l.Fixed() {
		return ""
	}
	return doublingPrefix + strconv.FormatInt(l.base, 10) + ":" + strconv.Itoa(l.tier)
}

// HandleEntries returns the handle entries that record l. Fixed layouts
// keep the original part-size form, so older replicas read them; a doubling
// layout has no part size, so a replica that does not know layouts refuses
// the upload instead of cutting it wrongly.
func (l Layout) HandleEntries(k Keys) map[string]string {
	if l.Fixed() {
		return map[string]string{k.PartSize: strconv.FormatInt(l.base, 10)}
	}
	return map[string]string{k.Layout: l.String()}
}

// LayoutFromHandle reads the layout of a handle: the layout entry when
// present, else the fixed part size. A missing or malformed value gives an
// invalid layout, which Handle.Check reports.
func (c Config) LayoutFromHandle(k Keys, hv map[string]string) Layout {
	if v, ok := hv[k.Layout]; ok {
		l, err := c.ParseLayout(v)
		if err != nil {
			return Layout{}
		}
		return l
	}
	ps, err := strconv.ParseInt(hv[k.PartSize], 10, 64)
	if err != nil || ps <= 0 {
		return Layout{}
	}
	return c.FixedLayout(ps)
}

// ParseLayout reads the handle form of a doubling layout.
func (c Config) ParseLayout(v string) (Layout, error) {
	rest, ok := strings.CutPrefix(v, doublingPrefix)
	if !ok {
		return Layout{}, fmt.Errorf("multipart: unknown part layout %q", v)
	}
	b, t, ok := strings.Cut(rest, ":")
	base, err1 := strconv.ParseInt(b, 10, 64)
	tier, err2 := strconv.Atoi(t)
	l := c.DoublingLayout(base, tier)
	if !ok || err1 != nil || err2 != nil || tier < 1 || !l.Valid() {
		return Layout{}, fmt.Errorf("multipart: malformed part layout %q", v)
	}
	return l, nil
}

// Tier is the number of parts per tier of a doubling layout (0: fixed).
func (l Layout) Tier() int { return l.tier }
