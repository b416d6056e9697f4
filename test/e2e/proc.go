package e2e

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Deadlines for events the harness waits on. They are generous on purpose:
// the machine is shared and slow, and they only bound a hang.
const (
	StartDeadline = 60 * time.Second
	ExitDeadline  = 60 * time.Second
)

// Options tune how a process is started.
type Options struct {
	// Dir is the working directory; empty means a new t.TempDir().
	Dir string
	// Env adds "KEY=value" entries. TUSGATE_* variables of the test's own
	// environment are never inherited, so a developer's settings cannot
	// change what a test runs.
	Env []string
}

// Proc is a running (or exited) tusgate process.
type Proc struct {
	// URL is the upload base URL the process logged, e.g.
	// http://127.0.0.1:41234/files/.
	URL string
	// Addr is the host:port it listens on; Restart reuses it.
	Addr string
	// Dir is its working directory.
	Dir string

	t    testing.TB
	args []string
	opts Options
	cmd  *exec.Cmd
	logs *logBuffer

	exited chan struct{}
	code   int
}

// Start runs the binary with args in a new temporary working directory and
// waits until it serves. Without a --listen argument it listens on
// 127.0.0.1:0. The process is killed when the test ends; if the test
// failed, its logs are printed.
func Start(t testing.TB, args ...string) *Proc {
	t.Helper()
	return StartWith(t, Options{}, args...)
}

// StartWith is Start with Options.
func StartWith(t testing.TB, opts Options, args ...string) *Proc {
	t.Helper()
	if !hasListen(args) {
		args = append(append([]string(nil), args...), "--listen", "127.0.0.1:0")
	}
	p := launch(t, opts, args)
	p.awaitURL()
	return p
}

// Run runs the binary until it exits on its own (for start-up failures) and
// returns its exit code and everything it printed. A process still running
// after ExitDeadline is killed and fails the test.
func Run(t testing.TB, opts Options, args ...string) (code int, logs string) {
	t.Helper()
	p := launch(t, opts, args)
	select {
	case <-p.exited:
	case <-time.After(ExitDeadline):
		_ = p.cmd.Process.Kill()
		<-p.exited
		t.Fatalf("tusgate %s did not exit within %s; output:\n%s", strings.Join(args, " "), ExitDeadline, p.Logs())
	}
	return p.code, p.Logs()
}

func launch(t testing.TB, opts Options, args []string) *Proc {
	t.Helper()
	if binaryPath == "" {
		t.Fatal("e2e: the tusgate binary was not built; TestMain must call Main")
	}
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	cmd := exec.Command(binaryPath, args...)
	cmd.Dir = opts.Dir
	cmd.Env = append(childEnv(), opts.Env...)
	logs := &logBuffer{urlSeen: make(chan string, 1)}
	cmd.Stdout = logs
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatalf("e2e: %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("e2e: start tusgate: %v", err)
	}
	p := &Proc{Dir: opts.Dir, t: t, args: args, opts: opts, cmd: cmd, logs: logs, exited: make(chan struct{})}
	go func() {
		// Wait only after stderr is drained, as os/exec requires.
		logs.scan(stderr)
		_ = cmd.Wait()
		p.code = cmd.ProcessState.ExitCode()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("tusgate %s (pid %d) output:\n%s", strings.Join(args, " "), cmd.Process.Pid, p.Logs())
		}
	})
	return p
}

// childEnv is the test's environment without TUSGATE_* settings.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TUSGATE_") {
			env = append(env, kv)
		}
	}
	return env
}

func (p *Proc) awaitURL() {
	p.t.Helper()
	select {
	case u := <-p.logs.urlSeen:
		p.URL = u
		p.Addr = hostPort(u)
	case <-p.exited:
		p.t.Fatalf("tusgate exited with code %d before serving; output:\n%s", p.code, p.Logs())
	case <-time.After(StartDeadline):
		p.t.Fatalf("tusgate did not log its URL within %s; output:\n%s", StartDeadline, p.Logs())
	}
}

// Kill sends SIGKILL and waits until the process is gone.
func (p *Proc) Kill() {
	p.t.Helper()
	p.Signal(syscall.SIGKILL)
	p.Wait()
}

// Term sends SIGTERM (graceful shutdown) and returns at once, so the caller
// can watch in-flight requests end; Wait collects the exit code.
func (p *Proc) Term() {
	p.t.Helper()
	p.Signal(syscall.SIGTERM)
}

// Signal sends sig to the process (e.g. SIGSTOP/SIGCONT to pause a replica).
// A process that has already exited is not an error.
func (p *Proc) Signal(sig os.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		p.t.Fatalf("e2e: signal %v: %v", sig, err)
	}
}

// Wait waits for the process to exit and returns its exit code (-1 when a
// signal ended it). It fails the test if the process is still running after
// ExitDeadline; call it from the test's goroutine.
func (p *Proc) Wait() int {
	p.t.Helper()
	select {
	case <-p.exited:
		return p.code
	case <-time.After(ExitDeadline):
		p.t.Fatalf("tusgate did not exit within %s; output:\n%s", ExitDeadline, p.Logs())
		return 0
	}
}

// Exited is closed once the process has exited.
func (p *Proc) Exited() <-chan struct{} { return p.exited }

// Restart starts the binary again with the same arguments, environment and
// working directory, listening on the same address so the upload URLs stay
// valid. The old process must have exited.
func (p *Proc) Restart() *Proc {
	p.t.Helper()
	select {
	case <-p.exited:
	default:
		p.t.Fatal("e2e: Restart of a process that is still running")
	}
	opts := p.opts
	opts.Dir = p.Dir
	return StartWith(p.t, opts, withListen(p.args, p.Addr)...)
}

// Logs returns everything the process has printed so far.
func (p *Proc) Logs() string { return p.logs.String() }

// logBuffer collects output and spots the "tusgate serving" line.
type logBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	urlSeen chan string
	found   bool
}

func (l *logBuffer) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(b)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) scan(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		_, _ = l.Write([]byte(line + "\n"))
		if u := servingURL(line); u != "" && !l.found {
			l.found = true
			l.urlSeen <- u
		}
	}
	// Drain anything past an over-long line so the child never blocks.
	_, _ = io.Copy(l, r)
}

// The start-up line in the text and the JSON log formats.
var (
	servingText = regexp.MustCompile(`msg="tusgate serving".*?\burl=(\S+)`)
	servingJSON = regexp.MustCompile(`"msg":"tusgate serving".*?"url":"([^"]+)"`)
)

func servingURL(line string) string {
	for _, re := range []*regexp.Regexp{servingText, servingJSON} {
		if m := re.FindStringSubmatch(line); m != nil {
			return m[1]
		}
	}
	return ""
}

// hostPort extracts host:port from an http:// URL.
func hostPort(u string) string {
	rest := strings.TrimPrefix(strings.TrimPrefix(u, "http://"), "https://")
	hp, _, _ := strings.Cut(rest, "/")
	return hp
}

func isListenFlag(a string) bool { return a == "--listen" || a == "-listen" }

func hasListen(args []string) bool {
	for _, a := range args {
		if isListenFlag(a) || strings.HasPrefix(a, "--listen=") || strings.HasPrefix(a, "-listen=") {
			return true
		}
	}
	return false
}

// withListen replaces any --listen argument by one for addr.
func withListen(args []string, addr string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case isListenFlag(a):
			i++ // skip the value too
		case strings.HasPrefix(a, "--listen=") || strings.HasPrefix(a, "-listen="):
		default:
			out = append(out, a)
		}
	}
	return append(out, "--listen", addr)
}
