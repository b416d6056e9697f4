package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// server is a tus server process (tusgate or tusd) under measurement. It
// gets an empty TMPDIR of its own, watched while it runs, and its logs go
// through a pipe so that they do not count as its disk writes.
type server struct {
	cmd    *exec.Cmd
	url    string // upload creation URL
	tmpDir string
	exited chan struct{}

	stopWatch chan struct{}
	watched   sync.WaitGroup
	mu        sync.Mutex
	tmpPeak   int64
}

// serverStats are what a server used during one run.
type serverStats struct {
	// PeakRSS is VmHWM: the most resident memory the process ever had.
	PeakRSS int64
	// TmpPeak is the most bytes seen in its TMPDIR at once (sampled).
	TmpPeak int64
	// DiskWritten is write_bytes from /proc/PID/io: bytes the process
	// dirtied in files (temp files too, even if deleted before writeback).
	DiskWritten int64
	// CPU is the user+system time the process used in its life.
	CPU time.Duration
}

// freeAddr picks a free loopback port.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startServer runs bin with args in dir (TMPDIR is dir/tmp, logs go to
// dir/server.log) and waits until OPTIONS on url answers.
func startServer(ctx context.Context, dir, bin string, args, env []string, url string) (*server, error) {
	tmp := filepath.Join(dir, "tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), env...), "TMPDIR="+tmp)
	// A plain io.Writer (not *os.File) makes exec copy through a pipe, so
	// log writes are ours, not the server's disk writes.
	cmd.Stdout = struct{ io.Writer }{logf}
	cmd.Stderr = struct{ io.Writer }{logf}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s := &server{cmd: cmd, url: url, tmpDir: tmp, exited: make(chan struct{}), stopWatch: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(s.exited)
	}()
	if err := s.awaitReady(ctx); err != nil {
		s.kill()
		return nil, fmt.Errorf("%s did not become ready: %w (log: %s)", filepath.Base(bin), err, filepath.Join(dir, "server.log"))
	}
	s.watched.Add(1)
	go s.watchTmp()
	return s, nil
}

func (s *server) awaitReady(ctx context.Context) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return errors.New("the process exited")
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodOptions, s.url, nil)
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK || res.StatusCode == http.StatusNoContent {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("no answer to OPTIONS within 60s")
}

// watchTmp samples the size of TMPDIR until stop; a temp file written and
// deleted between samples escapes it, which DiskWritten still counts.
func (s *server) watchTmp() {
	defer s.watched.Done()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		n := dirSize(s.tmpDir)
		s.mu.Lock()
		s.tmpPeak = max(s.tmpPeak, n)
		s.mu.Unlock()
		select {
		case <-s.stopWatch:
			return
		case <-t.C:
		}
	}
}

func dirSize(dir string) int64 {
	var total int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // files vanish while we walk
		}
		if info, err := d.Info(); err == nil && info.Mode().IsRegular() {
			total += info.Size()
		}
		return nil
	})
	return total
}

// stop reads the process's figures, then ends it with SIGTERM (SIGKILL
// after 30 s).
func (s *server) stop() (serverStats, error) {
	close(s.stopWatch)
	s.watched.Wait()
	pid := s.cmd.Process.Pid
	var st serverStats
	var err error
	st.PeakRSS, err = procField(fmt.Sprintf("/proc/%d/status", pid), "VmHWM:")
	if err == nil {
		st.DiskWritten, err = procField(fmt.Sprintf("/proc/%d/io", pid), "write_bytes:")
	}
	if err == nil {
		st.CPU, err = processCPU(pid)
	}
	st.TmpPeak = s.tmpPeak
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		s.kill()
	}
	return st, err
}

func (s *server) kill() {
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// procField reads a "Name: value [kB]" line of a /proc file, in bytes.
func procField(path, name string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		v, ok := strings.CutPrefix(sc.Text(), name)
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		unit := int64(1)
		if k, ok := strings.CutSuffix(v, " kB"); ok {
			v, unit = k, 1024
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s %s: %w", path, name, err)
		}
		return n * unit, nil
	}
	return 0, fmt.Errorf("%s has no %s", path, name)
}
