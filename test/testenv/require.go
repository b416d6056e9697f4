package testenv

import (
	"os"
	"testing"
)

// Unavailable ends a test that needs a service or tool that is not set up:
// it skips, or fails when TUSGATE_REQUIRE_SERVICES=1 so CI never skips
// silently. msg says what is missing and how to get it.
func Unavailable(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("TUSGATE_REQUIRE_SERVICES") == "1" {
		t.Fatal(msg + "; TUSGATE_REQUIRE_SERVICES=1 forbids skipping")
	}
	t.Skip(msg)
}

// Getenv returns the values of the environment variables names, or ends
// the test by Unavailable with msg when any of them is unset.
func Getenv(t testing.TB, msg string, names ...string) []string {
	t.Helper()
	vals := make([]string, len(names))
	for i, n := range names {
		if vals[i] = os.Getenv(n); vals[i] == "" {
			Unavailable(t, msg)
		}
	}
	return vals
}
