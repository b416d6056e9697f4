package fault

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSoak runs TUSGATE_SOAK_UPLOADS (default 8) clients uploading files
// of 1-24 MiB one after another against three replicas for TUSGATE_SOAK
// (a duration; unset: the test is skipped, it is not part of the normal
// run), while a random fault from the suite's list hits every 2-6 s. Then
// it prints a summary and fails unless every upload finished intact and
// the bucket holds nothing but the finished objects. scripts/soak.sh runs it.
func TestSoak(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("TUSGATE_SOAK"))
	if err != nil || d <= 0 {
		t.Skip("TUSGATE_SOAK (a duration) not set; run scripts/soak.sh")
	}
	clients := 8
	if v := os.Getenv("TUSGATE_SOAK_UPLOADS"); v != "" {
		if clients, err = strconv.Atoi(v); err != nil || clients < 1 || clients > 64 {
			t.Fatalf("TUSGATE_SOAK_UPLOADS=%q: want 1..64", v)
		}
	}
	e := newEnv(t, 3, true)
	ps, bases := proxies(t, e)
	rnd := rand.New(rand.NewPCG(rand.Uint64(), 2))
	deadline := time.Now().Add(d)
	// Uploads still running at the deadline get this long to finish.
	ctx, cancel := context.WithDeadline(context.Background(), deadline.Add(3*time.Minute))
	defer cancel()

	c := newGoClient()
	b := newBatch()
	var seeds sync.Mutex
	seed := uint64(1000)
	var workers sync.WaitGroup
	for w := range clients {
		workers.Go(func() {
			for time.Now().Before(deadline) && ctx.Err() == nil {
				seeds.Lock()
				seed++
				s := seed
				seeds.Unlock()
				size := MiB + int(s*7919%uint64(23*MiB))
				b.record(ctx, e, c, "", source(size, s), rotate(bases, w))
			}
		})
	}

	// Each kind of connection fault in turn, on every proxy for two seconds.
	next := 0
	faultConn := fault{"client connection cut, throttled or stalled", func(t *testing.T, e *env, _ *rand.Rand) {
		tx := toxics[next%len(toxics)]
		next++
		for _, p := range ps {
			if _, err := p.Toxics.AddToxicJson(strings.NewReader(`{"name":"fault",` + tx.json[1:])); err != nil {
				t.Fatalf("add toxic %s: %v", tx.name, err)
			}
		}
		time.Sleep(2 * time.Second)
		for _, p := range ps {
			if err := p.Toxics.RemoveToxic(ctx, "fault"); err != nil {
				t.Fatalf("remove toxic %s: %v", tx.name, err)
			}
		}
	}}
	kinds := []fault{faultKill, faultKill, faultStop, faultRedisRestart, faultRedisDown, faultMinIORestart, faultConn}
	injected := map[string]int{}
	type window struct {
		name       string
		start, end time.Time
	}
	var windows []window
	for {
		pause := 2*time.Second + time.Duration(rnd.Int64N(int64(4*time.Second)))
		if time.Now().Add(pause).After(deadline) {
			break
		}
		time.Sleep(pause)
		f := kinds[rnd.IntN(len(kinds))]
		start := time.Now()
		f.inject(t, e, rnd)
		// When each fault hit, to read the replicas' logs against.
		t.Logf("fault %s: %s to %s", f.name, start.UTC().Format("15:04:05.000"), time.Now().UTC().Format("15:04:05.000"))
		injected[f.name]++
		windows = append(windows, window{f.name, start, time.Now()})
	}
	workers.Wait()
	got := b.wait()

	lctx, lcancel := context.WithTimeout(context.Background(), time.Minute)
	defer lcancel()
	leaked, err := e.leaked(lctx, got.finished)
	if err != nil {
		t.Fatal(err)
	}
	summary := fmt.Sprintf("soak %s, %d clients, 3 replicas on Redis + S3 (MinIO), through toxiproxy\n", d, clients)
	summary += fmt.Sprintf("  uploads: %d ran, %d intact, corrupted or failed %d; %.0f MiB\n", got.ran, got.intact, got.ran-got.intact, float64(got.bytes)/MiB)
	summary += "  faults injected:"
	for _, f := range kinds[1:] {
		summary += fmt.Sprintf(" %s: %d;", f.name, injected[f.name])
	}
	summary += "\n  client resumed after a failure (first failed request to the next answered HEAD), by the fault it fell in:\n"
	for _, f := range kinds[1:] {
		in := func(at time.Time) bool {
			for _, w := range windows {
				// A request fails up to its timeout after the fault began.
				if w.name == f.name && !at.Before(w.start) && at.Before(w.end.Add(time.Second)) {
					return true
				}
			}
			return false
		}
		summary += fmt.Sprintf("    %s: %s\n", f.name, distribution(c.recoveries(in)))
	}
	summary += fmt.Sprintf("    all: %s\n", distribution(c.recoveries(nil)))
	if r, ok := c.longest(); ok {
		summary += fmt.Sprintf("    the longest: %s, %s\n", r.took.Round(time.Millisecond), r.chain())
	}
	summary += fmt.Sprintf("  uploads rewound because MinIO lost parts it had confirmed (then sent again): %d\n", e.rewound())
	summary += fmt.Sprintf("  leaked backend objects: %d\n  peak RSS: %s\n", len(leaked), e.rss)
	// Printed as well as logged, so the summary shows without -v.
	fmt.Print(summary)
	t.Log(summary)
	for _, f := range got.failures {
		t.Errorf("upload failed: %s", f)
	}
	if got.intact != got.ran || got.ran == 0 {
		t.Errorf("%d of %d uploads finished intact, want all (and at least one)", got.intact, got.ran)
	}
	if len(leaked) > 0 {
		t.Errorf("the bucket holds %d objects besides the finished ones: %v", len(leaked), leaked)
	}
}

// rotate returns bases starting at the w-th, so clients spread over replicas.
func rotate(bases []string, w int) []string {
	w %= len(bases)
	return append(append([]string(nil), bases[w:]...), bases[:w]...)
}
