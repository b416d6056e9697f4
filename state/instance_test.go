package state

import (
	"strings"
	"testing"
)

func TestInstanceNameFromHostName(t *testing.T) {
	for host, want := range map[string]string{
		"tusgate-5d8f7-x2kq":    "tusgate-5d8f7-x2kq",
		"node 1:eu/west@x{y}":   "node-1-eu-west-x-y-",
		"":                      "",
		strings.Repeat("h", 80): strings.Repeat("h", MaxInstanceNameLen),
	} {
		got := InstanceNameFrom(host)
		if got != want {
			t.Errorf("InstanceNameFrom(%q) = %q, want %q", host, got, want)
		}
		if got != "" {
			if err := CheckInstanceName(got); err != nil {
				t.Errorf("InstanceNameFrom(%q) = %q, which CheckInstanceName refuses: %v", host, got, err)
			}
		}
	}
	for _, bad := range []string{"", "a:b", "a@b", "a b", "ü", strings.Repeat("n", 64)} {
		if CheckInstanceName(bad) == nil {
			t.Errorf("CheckInstanceName(%q) accepted it", bad)
		}
	}
}
