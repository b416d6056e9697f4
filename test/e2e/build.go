package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// binaryPath is the tusgate binary under test. Main sets it once, before
// any test runs, and nothing changes it afterwards.
var binaryPath string

// Main builds the binary once and runs the package's tests. The package's
// TestMain is `func TestMain(m *testing.M) { os.Exit(Main(m)) }`.
func Main(m *testing.M) int {
	dir, err := os.MkdirTemp("", "tusgate-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	path, err := Build(ctx, dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	binaryPath = path
	return m.Run()
}

// Build compiles cmd/tusgate into dir and returns the binary's path. When
// TUSGATE_TEST_BINARY is set it returns that path instead, so CI can build
// once for several test packages.
func Build(ctx context.Context, dir string) (string, error) {
	if p := os.Getenv("TUSGATE_TEST_BINARY"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("TUSGATE_TEST_BINARY: %w", err)
		}
		return p, nil
	}
	out := filepath.Join(dir, "tusgate")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "github.com/tusgate/tusgate/cmd/tusgate")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build tusgate: %w\n%s", err, b)
	}
	return out, nil
}
