package e2e

import (
	"bytes"
	"crypto/sha256"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestInvalidConfigurationExits checks that a bad setting, from any source,
// stops start-up with a non-zero exit and a message naming the setting.
func TestInvalidConfigurationExits(t *testing.T) {
	cases := []struct {
		name  string
		args  []string
		env   []string
		yaml  string // written to a file passed with --config
		names string // must appear in the output
	}{
		{name: "max-size flag", args: []string{"--max-size", "abc"}, names: "--max-size"},
		{name: "negative expiration", args: []string{"--expiration", "-1s"}, names: "--expiration"},
		{name: "unknown store scheme", args: []string{"--store", "ftp://example.invalid/x"}, names: "--store"},
		{name: "unknown state scheme", args: []string{"--state", "mysql://localhost/db"}, names: "--state"},
		{name: "store without scheme", args: []string{"--store", "/no/scheme"}, names: "--store"},
		{name: "log level", args: []string{"--log-level", "loud"}, names: "--log-level"},
		{name: "unknown flag", args: []string{"--no-such-setting", "1"}, names: "no-such-setting"},
		{name: "max-size env", env: []string{"TUSGATE_MAX_SIZE=abc"}, names: "TUSGATE_MAX_SIZE"},
		{name: "expiration env", env: []string{"TUSGATE_EXPIRATION=soon"}, names: "TUSGATE_EXPIRATION"},
		{name: "max-size in file", yaml: "max-size: abc\n", names: "max-size"},
		{name: "unknown key in file", yaml: "maxsize: 1MiB\n", names: "maxsize"},
		{name: "missing config file", args: []string{"--config", "/nonexistent/tusgate.yaml"}, names: "config"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append([]string{"--listen", "127.0.0.1:0"}, tc.args...)
			if tc.yaml != "" {
				args = append(args, "--config", writeFile(t, dir, "tusgate.yaml", tc.yaml))
			}
			code, out := Run(t, Options{Dir: dir, Env: tc.env}, args...)
			if code == 0 {
				t.Fatalf("exit code 0, want non-zero; output:\n%s", out)
			}
			if strings.Contains(out, "tusgate serving") {
				t.Errorf("it served before failing; output:\n%s", out)
			}
			if !strings.Contains(out, tc.names) {
				t.Errorf("output does not name %q:\n%s", tc.names, out)
			}
		})
	}
}

// TestListenOnPortZeroLogsURL checks that a free port is picked and the
// logged URL is where the server answers.
func TestListenOnPortZeroLogsURL(t *testing.T) {
	dir := t.TempDir()
	p := Start(t, append(fileArgs(dir), "--listen", "127.0.0.1:0")...)
	if !regexp.MustCompile(`^http://127\.0\.0\.1:[1-9][0-9]*/files/$`).MatchString(p.URL) {
		t.Fatalf("logged URL %q, want http://127.0.0.1:<port>/files/", p.URL)
	}
	res := Discover(t, p.URL)
	if res.Header.Get("Tus-Version") != "1.0.0" {
		t.Errorf("OPTIONS: Tus-Version %q, want 1.0.0", res.Header.Get("Tus-Version"))
	}
	if v, ok := res.Header["Tus-Max-Size"]; ok {
		t.Errorf("OPTIONS: Tus-Max-Size %q without a configured limit", v)
	}
}

// TestSettingSources checks that environment variables and a YAML file are
// honoured, with flags over environment over file, by observing
// Tus-Max-Size and the base path.
func TestSettingSources(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		env     []string
		yaml    string
		envFile bool // pass the file through TUSGATE_CONFIG instead of --config
		maxSize string
		path    string
	}{
		{name: "env", env: []string{"TUSGATE_MAX_SIZE=1MiB"}, maxSize: "1048576"},
		{name: "yaml file", yaml: "max-size: 2MiB\nbase-path: /uploads/\n", maxSize: "2097152", path: "/uploads/"},
		{name: "yaml file via TUSGATE_CONFIG", yaml: "max-size: 3000\n", envFile: true, maxSize: "3000"},
		{name: "env over file", env: []string{"TUSGATE_MAX_SIZE=1MiB"}, yaml: "max-size: 2MiB\n", maxSize: "1048576"},
		{name: "flag over env", args: []string{"--max-size", "4096"}, env: []string{"TUSGATE_MAX_SIZE=1MiB"}, maxSize: "4096"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append(fileArgs(dir), tc.args...)
			env := tc.env
			if tc.yaml != "" {
				f := writeFile(t, dir, "tusgate.yaml", tc.yaml)
				if tc.envFile {
					env = append(env, "TUSGATE_CONFIG="+f)
				} else {
					args = append(args, "--config", f)
				}
			}
			p := StartWith(t, Options{Dir: dir, Env: env}, args...)
			wantPath := tc.path
			if wantPath == "" {
				wantPath = "/files/"
			}
			if !strings.HasSuffix(p.URL, wantPath) {
				t.Errorf("logged URL %q, want base path %s", p.URL, wantPath)
			}
			if got := Discover(t, p.URL).Header.Get("Tus-Max-Size"); got != tc.maxSize {
				t.Errorf("Tus-Max-Size %q, want %q", got, tc.maxSize)
			}
		})
	}
}

// TestDefaultRunKeepsDataUnderWorkingDir runs the binary with no store or
// state settings: it must keep bytes and state under ./data and find the
// upload again after a restart.
func TestDefaultRunKeepsDataUnderWorkingDir(t *testing.T) {
	dir := t.TempDir()
	p := StartWith(t, Options{Dir: dir})
	if _, err := os.Stat(filepath.Join(dir, "data", "tusgate.db")); err != nil {
		t.Fatalf("state database not under ./data: %v", err)
	}

	data := sourceData(300<<10, 3)
	url := Create(t, p.URL, int64(len(data)), nil)
	if got := Patch(t, url, 0, data[:100<<10]); got != 100<<10 {
		t.Fatalf("first PATCH: offset %d, want %d", got, 100<<10)
	}
	if !dataFileHolds(t, filepath.Join(dir, "data"), data[:100<<10]) {
		t.Fatal("no file under ./data holds the bytes of the upload")
	}

	p.Term()
	if code := p.Wait(); code != 0 {
		t.Fatalf("exit code after SIGTERM = %d, want 0", code)
	}
	p.Restart() // same address, so url stays valid
	if got := Offset(t, url); got != 100<<10 {
		t.Fatalf("offset after restart = %d, want %d", got, 100<<10)
	}
	if got := Patch(t, url, 100<<10, data[100<<10:]); got != int64(len(data)) {
		t.Fatalf("second PATCH: offset %d, want %d", got, len(data))
	}
	sum, n := DownloadSHA256(t, url)
	if n != int64(len(data)) || sum != sha256.Sum256(data) {
		t.Fatalf("downloaded %d bytes that differ from the %d uploaded", n, len(data))
	}
}

// dataFileHolds reports whether some regular file under dir has exactly
// the content want.
func dataFileHolds(t *testing.T, dir string, want []byte) bool {
	t.Helper()
	found := false
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || found || !d.Type().IsRegular() {
			return err
		}
		info, err := d.Info()
		if err != nil || info.Size() != int64(len(want)) {
			return err
		}
		b, err := os.ReadFile(path)
		found = err == nil && bytes.Equal(b, want)
		return err
	})
	if err != nil {
		t.Fatalf("walk %s: %v", dir, err)
	}
	return found
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
