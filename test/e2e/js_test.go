package e2e

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/tusgate/tusgate/test/testenv"
)

// jsDir is the Node project with the tus-js-client test, relative to this
// package's directory (where go test runs).
const jsDir = "../js"

// TestTusJSClient runs test/js (tus-js-client, pinned in its lockfile)
// against the binary: an upload aborted after its first chunk and resumed,
// and metadata echo.
func TestTusJSClient(t *testing.T) {
	node, dir := testenv.NodeProject(t, jsDir)
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
	if pass := testenv.TAPCount(out, "pass"); pass < 3 {
		t.Errorf("node --test: %d tests passed, want 3", pass)
	}
	if skip := testenv.TAPCount(out, "skipped"); skip != 0 {
		t.Errorf("node --test: %d tests skipped, want 0", skip)
	}
}
