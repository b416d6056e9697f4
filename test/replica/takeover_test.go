package replica

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/tusgate/tusgate/test/e2e"
)

// TestNewRequestTakesOverStalledPatchOnAnotherReplica checks design
// invariant 5 across replicas, four times in a row on one upload: a PATCH to
// replica A stalls with its body still open after a few MiB; a HEAD to
// replica B must ask A to let go and answer with the offset A stored, while
// A's client is still stalled and long before --lock-timeout; A's request
// ends with 423; then a PATCH to B at that offset proceeds (and becomes the
// next stalled one, on the next replica). The HEAD durations are the
// takeover latencies; they are logged, and only bounded by the lock timeout.
func TestNewRequestTakesOverStalledPatchOnAnotherReplica(t *testing.T) {
	const (
		size   = 24 * MiB
		rounds = 4
		step   = 3 * MiB // how much each stalled PATCH sends
	)
	c, data, u := threeWithUpload(t, size, 3, 0)

	var latencies []time.Duration
	offset := int64(0)
	for round := range rounds {
		a, b := round%3, (round+1)%3
		sp := startStream(t, c.at(a, u), offset, data[offset:], step, time.Millisecond)
		sp.awaitSent(t, step)
		// Once the server has written what the client sent, A holds
		// bytes that only its own save can make count.
		sp.awaitStored(t, c.dataFile(u), offset+step)
		sp.failIfEnded(t) // the client is still stalled

		head := send(t, http.MethodHead, c.at(b, u), nil, nil, lockTimeout)
		if head.status != http.StatusOK {
			t.Fatalf("round %d: HEAD on replica %d while replica %d holds the upload: status %d, want 200", round+1, b, a, head.status)
		}
		latencies = append(latencies, head.took)
		got := uploadOffset(t, head.header)
		t.Logf("round %d: HEAD on replica %d took over from replica %d in %s; offset %s", round+1, b, a, head.took, mib(got))
		if got != offset+step {
			t.Fatalf("round %d: HEAD offset %d, want %d: the %s the stalled PATCH had received and written were not all stored",
				round+1, got, offset+step, mib(step))
		}

		r := sp.wait(t)
		if r.err != nil {
			t.Fatalf("round %d: the stalled PATCH on replica %d got no response: %v", round+1, a, r.err)
		}
		if r.status != http.StatusLocked {
			t.Fatalf("round %d: the stalled PATCH on replica %d ended with %d %q, want 423", round+1, a, r.status, r.body)
		}
		if ack := r.offset(t); ack != got {
			t.Fatalf("round %d: the 423 acknowledged offset %d, HEAD says %d", round+1, ack, got)
		}
		if r.header.Get("Tus-Resumable") != "1.0.0" {
			t.Errorf("round %d: the 423 lacks Tus-Resumable: 1.0.0", round+1)
		}
		sp.abort()
		offset = got
	}

	last := rounds % 3
	if got := e2e.Patch(t, c.at(last, u), offset, data[offset:]); got != size {
		t.Fatalf("final PATCH on replica %d: Upload-Offset %d, want %d", last, got, size)
	}
	checkContent(t, c.at((last+1)%3, u), data)

	slices.Sort(latencies)
	t.Logf("takeover latency (HEAD on another replica) over %d rounds: min %s, median %s, max %s (lease TTL %s, lock timeout %s)",
		len(latencies), latencies[0], latencies[len(latencies)/2], latencies[len(latencies)-1], leaseTTL, lockTimeout)
	for i, d := range latencies {
		// The HEAD had to succeed while the old client was still stalled;
		// reaching the lock timeout would have meant a 423 instead.
		if d >= lockTimeout {
			t.Errorf("takeover %d took %s, not below the lock timeout %s", i+1, d, lockTimeout)
		}
	}
}
