// Package size is the one syntax for byte sizes in flags and store URLs:
// a plain number is bytes; K, M, G, T (with or without "i", "iB") are
// binary (IEC) multiples, so "5M" is 5 MiB everywhere; KB, MB, GB, TB are
// decimal, as SI says. Fractions ("1.5GiB") are accepted.
package size

import (
	"fmt"
	"strings"

	"github.com/dustin/go-humanize"
)

// Max is the largest size accepted (2^62 bytes), so sums of sizes never
// overflow an int64.
const Max = 1 << 62

// Parse reads a size (see the package comment).
func Parse(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("not a size: %q", s)
	}
	// humanize reads a bare "M" as decimal; this syntax makes it binary.
	switch last := t[len(t)-1]; {
	case strings.ContainsRune("kKmMgGtTpP", rune(last)):
		t += "iB"
	case (last == 'i' || last == 'I') && len(t) > 1 && strings.ContainsRune("kKmMgGtTpP", rune(t[len(t)-2])):
		t += "B"
	}
	n, err := humanize.ParseBytes(t)
	if err != nil {
		return 0, fmt.Errorf("not a size: %q", s)
	}
	if n > Max {
		return 0, fmt.Errorf("size %q too large", s)
	}
	return int64(n), nil
}
