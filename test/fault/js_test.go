package fault

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// jsClient uploads with tus-js-client (test/js/fault-upload.mjs), which
// retries against one replica: a replica that is killed and restarted on
// its address is where it resumes.
type jsClient struct {
	node, dir, tmp string
	retries        atomic.Int64 // retries the clients reported
}

func newJSClient(t *testing.T) *jsClient {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed; scripts/test.sh installs it")
	}
	dir, err := filepath.Abs(filepath.Join("..", "js"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "tus-js-client")); err != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
		}
	}
	return &jsClient{node: node, dir: dir, tmp: t.TempDir()}
}

func (c *jsClient) Upload(ctx context.Context, bases []string, resume string, data []byte) (string, error) {
	if resume != "" {
		return "", errors.New("jsClient: resuming a given upload is not supported")
	}
	f, err := os.CreateTemp(c.tmp, "src-*")
	if err != nil {
		return "", err
	}
	if _, err := f.Write(data); err != nil {
		return "", errors.Join(err, f.Close())
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, c.node, "fault-upload.mjs", bases[0], f.Name())
	cmd.Dir = c.dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("tus-js-client: %w: %s", err, stderr.String())
	}
	u, n, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
	if r, err := strconv.Atoi(n); err == nil {
		c.retries.Add(int64(r))
	}
	return u, nil
}

// TestTusJSClientThroughSIGKILL runs tus-js-client uploads, one per replica,
// while the replicas are SIGKILLed at random instants and restarted on
// their addresses: each client resumes where its replica left off.
func TestTusJSClientThroughSIGKILL(t *testing.T) {
	e := newEnv(t, 3, false)
	js := newJSClient(t)
	rnd := rand.New(rand.NewPCG(rand.Uint64(), 3))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	b := newBatch()
	bases := e.bases()
	for i := range 3 {
		b.start(ctx, e, js, "", source(40*MiB+i, uint64(400+i)), rotate(bases, i))
	}
	const kills = 3
	for range kills {
		time.Sleep(200*time.Millisecond + time.Duration(rnd.Int64N(int64(500*time.Millisecond))))
		faultKill.inject(t, e, rnd)
	}
	got := b.wait()
	t.Logf("the tus-js-client uploads retried %d times in all", js.retries.Load())
	check(t, e, "tus-js-client through SIGKILL of its replica", got, kills, &recorder{})
}
