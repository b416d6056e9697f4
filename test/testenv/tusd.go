package testenv

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// Binary finds an installed program: the path in the environment variable
// env, else name on PATH. Without it the test skips, or fails when
// TUSGATE_REQUIRE_SERVICES=1 (CI), so nothing is silently skipped there;
// install says how to get it.
func Binary(t testing.TB, env, name, install string) string {
	t.Helper()
	p := os.Getenv(env)
	if p == "" {
		p, _ = exec.LookPath(name)
	}
	if p == "" {
		Unavailable(t, name+" not found ("+install+", or set "+env+")")
	}
	return p
}

// TusdBinary finds tusd v2.9.1 (TUSGATE_TEST_TUSD, else tusd on PATH).
func TusdBinary(t testing.TB) string {
	t.Helper()
	return Binary(t, "TUSGATE_TEST_TUSD", "tusd", "`go install github.com/tus/tusd/v2/cmd/tusd@v2.9.1`")
}

// StartTusd runs tusd on a free loopback port with its file store in a
// temporary directory, plus args, until the test ends, and returns its
// upload base URL (http://127.0.0.1:PORT/files/). Its output is logged
// when the test fails.
func StartTusd(t testing.TB, args ...string) string {
	t.Helper()
	bin := TusdBinary(t)
	port := strconv.Itoa(FreePort(t))
	cmd := exec.Command(bin, append([]string{"-host", "127.0.0.1", "-port", port, "-base-path", "/files/",
		"-upload-dir", filepath.Join(t.TempDir(), "tusd"), "-show-greeting=false"}, args...)...)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start tusd: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("tusd output:\n%s", logs.String())
		}
	})
	base := "http://127.0.0.1:" + port + "/files/"
	waitFor(t, "tusd to answer OPTIONS", func() bool {
		req, _ := http.NewRequest(http.MethodOptions, base, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode < 300
	})
	return base
}
