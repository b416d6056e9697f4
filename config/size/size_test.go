package size

import "testing"

func TestParse(t *testing.T) {
	good := map[string]int64{
		"0": 0, "5242880": 5 << 20, "5M": 5 << 20, "5m": 5 << 20, "5Mi": 5 << 20, "5MiB": 5 << 20,
		"5MB": 5e6, "64KB": 64e3, "1K": 1024, "2G": 2 << 30, "1GiB": 1 << 30, "1TiB": 1 << 40,
		"1.5GiB": 3 << 29, " 8MiB ": 8 << 20, "10B": 10,
	}
	for in, want := range good {
		if got, err := Parse(in); err != nil || got != want {
			t.Errorf("Parse(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "x", "-1", "5Q", "5 MiBs", "9EiB", "1e30"} {
		if got, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %d, want an error", in, got)
		}
	}
}
