package replica

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/tusgate/tusgate/test/e2e"
)

// deadHolderLease is far above the lock timeout, so a HEAD that answers
// while the killed holder's lease is still in Redis proves the lease was
// broken through the liveness check, not left to lapse.
const deadHolderLease = 60 * time.Second

// TestTakeoverAfterSIGKILLIsFast measures design invariant 5 for a dead
// holder: the replica serving a PATCH is killed with SIGKILL at a random
// instant (random against its liveness refreshes), and the time from the
// SIGKILL until HEAD on another replica answers is the takeover time. The
// HEAD must answer 200 with an offset between 0 and what the client sent,
// the next PATCH from there must be granted (it is timed too), and the
// finished upload must equal the source. Times are logged, not asserted:
// the 60 s lease and the 10 s lock timeout make any answer at all proof
// that the lease was broken.
func TestTakeoverAfterSIGKILLIsFast(t *testing.T) {
	c := startCluster(t, 3, sharedRedis(t), "--lease-ttl", deadHolderLease.String())
	const (
		rounds = 8
		size   = 6 * MiB
	)
	var heads, patches []time.Duration
	for round := range rounds {
		a, b := round%3, (round+1)%3
		data := source(size, uint64(100+round))
		u := e2e.Create(t, c.nodes[b].URL, size, nil)
		// The client stalls after 3 MiB with the body open, so the
		// replica still holds the upload when it dies.
		sp := startStream(t, c.at(a, u), 0, data, 3*MiB, time.Millisecond)
		sp.awaitStored(t, c.dataFile(u), 3*MiB)
		time.Sleep(time.Duration(rand.Int64N(int64(1200 * time.Millisecond))))
		sp.failIfEnded(t)

		killed := time.Now()
		c.nodes[a].Kill()
		sp.abort()
		head := send(t, http.MethodHead, c.at(b, u), nil, nil, lockTimeout+5*time.Second)
		took := time.Since(killed)
		if head.status != http.StatusOK {
			t.Fatalf("round %d: HEAD on replica %d after replica %d was killed: status %d %q, want 200", round+1, b, a, head.status, head.body)
		}
		offset, sent := uploadOffset(t, head.header), sp.sent.Load()
		if offset < 0 || offset > sent {
			t.Fatalf("round %d: offset %d after the kill, want within [0, %d] (sent)", round+1, offset, sent)
		}
		patchStart := time.Now()
		if got := e2e.Patch(t, c.at(b, u), offset, data[offset:]); got != size {
			t.Fatalf("round %d: PATCH on replica %d from %d: Upload-Offset %d, want %d", round+1, b, offset, got, size)
		}
		patchTook := time.Since(patchStart)
		checkContent(t, c.at((b+1)%3, u), data)
		heads, patches = append(heads, took), append(patches, patchTook)
		t.Logf("round %d: killed replica %d after %s sent; HEAD on replica %d answered %s after the SIGKILL (offset %s); the next PATCH (%s) took %s",
			round+1, a, mib(sent), b, took.Round(time.Millisecond), mib(offset), mib(size-offset), patchTook.Round(time.Millisecond))
		c.nodes[a] = c.nodes[a].Restart()
	}
	t.Logf("takeover after SIGKILL (SIGKILL to HEAD 200 on another replica) over %d rounds: %s (lease TTL %s)",
		rounds, distribution(heads), deadHolderLease)
	t.Logf("the PATCH right after the takeover, to the end of the upload: %s", distribution(patches))
}

// distribution formats min, median, p99 and max of ds.
func distribution(ds []time.Duration) string {
	if len(ds) == 0 {
		return "no samples"
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(q float64) time.Duration { return s[min(len(s)-1, int(q*float64(len(s))))].Round(time.Millisecond) }
	return fmt.Sprintf("min %s, median %s, p99 %s, max %s (n=%d)", s[0].Round(time.Millisecond), at(0.5), at(0.99), s[len(s)-1].Round(time.Millisecond), len(s))
}
