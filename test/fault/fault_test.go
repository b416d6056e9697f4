package fault

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// fault is one kind of failure the suite injects while uploads run.
type fault struct {
	name   string
	inject func(t *testing.T, e *env, rnd *rand.Rand)
}

var (
	// SIGKILL of a random replica at a random instant (so, over many, of
	// the one serving a PATCH, also between a part upload and its commit),
	// restarted on the same address at once.
	faultKill = fault{"SIGKILL of a replica", func(t *testing.T, e *env, rnd *rand.Rand) {
		i := rnd.IntN(len(e.nodes))
		e.node(i).Kill()
		e.restart(i)
	}}
	// SIGSTOP for longer than the lease, then SIGCONT: the stopped replica's
	// uploads move on elsewhere and its late writes are fenced.
	faultStop = fault{"SIGSTOP of a replica past the lease, then SIGCONT", func(t *testing.T, e *env, rnd *rand.Rand) {
		p := e.node(rnd.IntN(len(e.nodes)))
		p.Signal(syscall.SIGSTOP)
		t.Cleanup(func() { p.Signal(syscall.SIGCONT) }) // so it can be killed at the end
		time.Sleep(leaseTTL + time.Second)
		p.Signal(syscall.SIGCONT)
	}}
	faultRedisRestart = fault{"Redis restarted (AOF)", func(t *testing.T, e *env, _ *rand.Rand) {
		e.redis.Restart(t)
	}}
	faultMinIORestart = fault{"MinIO restarted", func(t *testing.T, e *env, _ *rand.Rand) {
		e.minio.Stop(t)
		time.Sleep(time.Second)
		e.minio.Start(t)
	}}
	faultRedisDown = fault{"Redis unreachable for 5 s", func(t *testing.T, e *env, _ *rand.Rand) {
		e.redis.Stop(t)
		time.Sleep(5 * time.Second)
		e.redis.Start(t)
	}}
)

// tally is what a batch of uploads came to.
type tally struct {
	ran, intact int
	bytes       int64
	failures    []string
	finished    map[string]bool // upload IDs whose object must stay
}

// batch runs uploads in goroutines and collects their outcome.
type batch struct {
	wg sync.WaitGroup
	mu sync.Mutex
	tally
}

func newBatch() *batch { return &batch{tally: tally{finished: map[string]bool{}}} }

// start uploads data through the replicas at bases with c, verifying the
// finished object against data. resume is the URL of an existing upload,
// or "" to create one.
func (b *batch) start(ctx context.Context, e *env, c uploader, resume string, data []byte, bases []string) {
	b.wg.Go(func() { b.record(ctx, e, c, resume, data, bases) })
}

func (b *batch) record(ctx context.Context, e *env, c uploader, resume string, data []byte, bases []string) {
	u, err := c.Upload(ctx, bases, resume, data)
	if err == nil {
		err = verify(ctx, e.bases(), u, data)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.ran++
	if err != nil {
		b.failures = append(b.failures, err.Error())
		return
	}
	b.intact++
	b.bytes += int64(len(data))
	b.finished[path.Base(u)] = true
}

// wait returns the tally once every upload has ended.
func (b *batch) wait() tally {
	b.wg.Wait()
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.tally
}

// check fails the test unless every upload finished intact and the bucket
// holds nothing but the finished objects, and logs the case's report line.
func check(t *testing.T, e *env, name string, got tally, faults int, c *recorder) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	leaked, err := e.leaked(ctx, got.finished)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("REPORT %s: %d uploads ran, %d intact (%.0f MiB); %d faults injected; client resumed after failures in %s; leaked backend objects %d; peak RSS %s",
		name, got.ran, got.intact, float64(got.bytes)/MiB, faults, distribution(c.recoveries(nil)), len(leaked), e.rss)
	for _, cause := range c.causes(6) {
		t.Logf("  a failure the client resumed from: %s", cause)
	}
	if r, ok := c.longest(); ok {
		t.Logf("  the longest recovery: %s, %s", r.took.Round(time.Millisecond), r.chain())
	}
	for _, f := range got.failures {
		t.Errorf("%s: %s", name, f)
	}
	if got.intact != got.ran {
		t.Errorf("%s: %d of %d uploads finished intact, want all", name, got.intact, got.ran)
	}
	if len(leaked) > 0 {
		t.Errorf("%s: the bucket holds %d objects besides the finished ones: %v", name, len(leaked), leaked)
	}
}

// TestFaults runs uploads against three replicas on Redis and an object
// store while one kind of fault is injected a few times, and checks every
// finished object's SHA-256 against its source. Every case runs on S3;
// SIGKILL, SIGSTOP and the Redis restart run on Azure and GCS too.
func TestFaults(t *testing.T) {
	cases := []struct {
		fault    fault
		times    int
		ownMinIO bool
		stores   []storeKind
	}{
		{faultKill, 4, false, []storeKind{kindS3, kindAzure, kindGCS}},
		{faultStop, 1, false, []storeKind{kindS3, kindAzure, kindGCS}},
		{faultRedisRestart, 2, false, []storeKind{kindS3, kindAzure, kindGCS}},
		{faultRedisDown, 1, false, []storeKind{kindS3}},
		{faultMinIORestart, 1, true, []storeKind{kindS3}},
	}
	for _, tc := range cases {
		for _, kind := range tc.stores {
			name := tc.fault.name + " on " + kind.name
			t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
				e := newEnvOn(t, kind, 3, tc.ownMinIO)
				rnd := rand.New(rand.NewPCG(rand.Uint64(), 1))
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
				defer cancel()
				c := newGoClient()
				b := newBatch()
				const uploads = 6
				for i := range uploads {
					b.start(ctx, e, c, "", source(12*MiB+i*MiB+i, uint64(i)), rotate(e.bases(), i))
				}
				for range tc.times {
					time.Sleep(300*time.Millisecond + time.Duration(rnd.Int64N(int64(time.Second))))
					tc.fault.inject(t, e, rnd)
				}
				check(t, e, name, b.wait(), tc.times, &c.recorder)
			})
		}
	}
}

// TestRacingClients has two clients upload the same file to one upload at
// once, each through another replica: they take the upload from each other
// over and over; the object must still be the source.
func TestRacingClients(t *testing.T) {
	e := newEnv(t, 3, false)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c := newGoClient()
	b := newBatch()
	const races = 3
	for i := range races {
		data := source(11*MiB+i, uint64(50+i))
		info, err := c.create(ctx, e.bases()[0], int64(len(data)), nil)
		if err != nil {
			t.Fatal(err)
		}
		bases := e.bases()
		b.start(ctx, e, c, info.URL, data, bases)
		b.start(ctx, e, c, info.URL, data, rotate(bases, 1))
	}
	got := b.wait()
	// Both clients of a race report on the same object.
	check(t, e, "two clients racing on one upload through different replicas", got, 0, &c.recorder)
}

// distribution formats min, median, p99 and max of ds.
func distribution(ds []time.Duration) string {
	if len(ds) == 0 {
		return "no samples"
	}
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	at := func(q float64) time.Duration { return s[min(len(s)-1, int(q*float64(len(s))))].Round(time.Millisecond) }
	return fmt.Sprintf("p50 %s, p99 %s, max %s (n=%d)", at(0.5), at(0.99), s[len(s)-1].Round(time.Millisecond), len(s))
}
