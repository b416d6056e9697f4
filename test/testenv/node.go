package testenv

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// NodeProject returns the node binary and the absolute path of the Node
// project test/js (tus-js-client, pinned in its lockfile), given as dir
// relative to the calling package, after `npm ci` when its node_modules are
// missing. Without node and npm the test is skipped, or fails when
// TUSGATE_REQUIRE_SERVICES=1.
func NodeProject(t testing.TB, dir string) (node, abs string) {
	t.Helper()
	node, err := exec.LookPath("node")
	npm, nerr := exec.LookPath("npm")
	if err != nil || nerr != nil {
		Unavailable(t, "node and npm are not installed (Node 20+ is needed for the tus-js-client tests)")
	}
	if abs, err = filepath.Abs(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(abs, "node_modules", "tus-js-client")); err != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = abs
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", abs, err, out)
		}
	}
	return node, abs
}

var tapCountRe = regexp.MustCompile(`(?m)^# ([a-z]+) ([0-9]{1,9})$`)

// TAPCount reads a summary count ("# pass 3", "# skipped 0") of node's TAP
// reporter; -1 when it is missing.
func TAPCount(out []byte, name string) int {
	for _, m := range tapCountRe.FindAllSubmatch(out, -1) {
		if string(m[1]) == name {
			n, _ := strconv.Atoi(string(m[2])) // \d+ of a sane length
			return n
		}
	}
	return -1
}
