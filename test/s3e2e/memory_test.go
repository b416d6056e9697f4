package s3e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/tusgate/tusgate/test/e2e"
)

// TestConcurrentUploadsWithinMemoryBudget runs 16 uploads (about 200 MiB)
// at once through one gateway whose part-buffer budget (32 MiB) holds only
// six 5 MiB parts: the others must wait for buffers (backpressure) rather
// than fail, every object must equal its source, and the gateway's peak
// RSS must stay within the 128 MiB for 16 concurrent uploads.
func TestConcurrentUploadsWithinMemoryBudget(t *testing.T) {
	t.Parallel()
	const uploads = 16
	e := newEnv(t)
	p := e.start(t, "--memory-budget", "32MiB")

	sources := make([][]byte, uploads)
	urls := make([]string, uploads)
	for i := range uploads {
		// 10 MiB .. 14.7 MiB: two or more parts and a short last part.
		sources[i] = sourceData(10*MiB+i*307<<10, uint64(200+i))
		urls[i] = e2e.Create(t, p.URL, int64(len(sources[i])), nil)
	}
	errs := make([]error, uploads)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range uploads {
		wg.Go(func() {
			<-start
			got, err := patch(urls[i], 0, sources[i])
			if err == nil && got != int64(len(sources[i])) {
				err = fmt.Errorf("Upload-Offset %d, want %d", got, len(sources[i]))
			}
			errs[i] = err
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("upload %d: %v", i, err)
		}
	}
	if t.Failed() {
		return
	}
	for i := range uploads {
		e.checkContent(t, urls[i], sources[i])
	}
	hwm, ok := peakRSS(t, e.prefix)
	if !ok {
		t.Fatal("could not find the gateway's VmHWM in /proc")
	}
	t.Logf("gateway peak RSS (VmHWM) %d MiB with a 32 MiB part budget and %d concurrent uploads", hwm>>20, uploads)
	if hwm > 128*MiB {
		t.Errorf("gateway peak RSS %d MiB, want at most 128 MiB", hwm>>20)
	}
}

// peakRSS finds the gateway started with this test's bucket prefix in its
// arguments and returns its VmHWM in bytes.
func peakRSS(t *testing.T, marker string) (int64, bool) {
	t.Helper()
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		cmdline, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil || !bytes.Contains(cmdline, []byte(marker)) || !bytes.Contains(cmdline, []byte("--store")) {
			continue
		}
		f, err := os.Open(filepath.Join(d, "status"))
		if err != nil {
			continue
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
				kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
				if err == nil {
					return kb << 10, true
				}
			}
		}
	}
	return 0, false
}
