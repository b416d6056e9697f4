package e2e

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

// jsDir is the Node project with the tus-js-client test, relative to this
// package's directory (where go test runs).
const jsDir = "../js"

// TestTusJSClient runs test/js (tus-js-client, pinned in its lockfile)
// against the binary: an upload aborted after its first chunk and resumed,
// and metadata echo.
func TestTusJSClient(t *testing.T) {
	node, npm := lookPathOrSkip(t, "node"), lookPathOrSkip(t, "npm")
	dir, err := filepath.Abs(jsDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "tus-js-client")); err != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
		}
	}

	p := Start(t, fileArgs(t.TempDir())...)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// TAP output is stable across Node versions and carries the counts.
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=tap", "tus-client.test.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TUSGATE_URL="+p.URL)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test failed: %v\n%s", err, out)
	}
	t.Logf("node --test output:\n%s", out)
	// A run where tests were skipped or none ran is not a pass.
	if pass := tapCount(out, "pass"); pass < 3 {
		t.Errorf("node --test: %d tests passed, want 3", pass)
	}
	if skip := tapCount(out, "skipped"); skip != 0 {
		t.Errorf("node --test: %d tests skipped, want 0", skip)
	}
}

var tapCountRe = regexp.MustCompile(`(?m)^# ([a-z]+) ([0-9]{1,9})$`)

// tapCount reads a summary count ("# pass 3", "# skipped 0") of node's TAP
// reporter; -1 when it is missing, which the checks above treat as wrong.
func tapCount(out []byte, name string) int {
	for _, m := range tapCountRe.FindAllSubmatch(out, -1) {
		if string(m[1]) == name {
			n, _ := strconv.Atoi(string(m[2])) // \d+ of a sane length
			return n
		}
	}
	return -1
}

// lookPathOrSkip finds a tool, skipping the test when it is missing unless
// TUSGATE_REQUIRE_SERVICES=1 demands that nothing is skipped.
func lookPathOrSkip(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	msg := name + " is not installed (Node 20+ with npm is needed for the tus-js-client test)"
	if os.Getenv("TUSGATE_REQUIRE_SERVICES") == "1" {
		t.Fatal(msg + "; TUSGATE_REQUIRE_SERVICES=1 forbids skipping")
	}
	t.Skip(msg)
	return ""
}
