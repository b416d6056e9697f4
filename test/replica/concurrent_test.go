package replica

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/tusgate/tusgate/test/e2e"
)

// TestConcurrentPatchesFromTwoReplicasNeverBothWrite sends, in each of
// several rounds, two slow PATCHes at the same offset of one upload at the
// same time, one to replica A and one to replica B. Two requests may never
// both store bytes at that offset: at most one response may report
// progress (a 409 only reports the offset someone else reached). After each
// round a HEAD on replica C must report the offset the writer reached and
// never less than before. Finally the upload is completed with HEAD + PATCH
// and must be exactly the source.
func TestConcurrentPatchesFromTwoReplicasNeverBothWrite(t *testing.T) {
	const (
		size   = 16 * MiB
		rounds = 4
		chunk  = 2 * MiB
	)
	c, data, u := threeWithUpload(t, size, 2, 2)

	offset, progressed := int64(0), 0
	for round := range rounds {
		end := min(offset+chunk, size)
		// Both bodies are slow, so both requests are in flight together.
		sa := startStream(t, c.at(0, u), offset, data[offset:end], chunk, 2*time.Millisecond)
		sb := startStream(t, c.at(1, u), offset, data[offset:end], chunk, 2*time.Millisecond)
		ra, rb := sa.wait(t), sb.wait(t)

		var writers []string
		reached, blind := offset, false
		for i, r := range []outcome{ra, rb} {
			desc := describe(r)
			t.Logf("round %d: PATCH at %d on replica %d: %s", round+1, offset, i, desc)
			if r.err != nil {
				blind = true // the client cannot know what was stored
				continue
			}
			if r.status == http.StatusConflict {
				continue // stored nothing: a 409 reports someone else's offset
			}
			switch r.status {
			case http.StatusNoContent, http.StatusLocked:
			default:
				t.Fatalf("round %d: PATCH on replica %d: %s, want 204, 409 or 423", round+1, i, desc)
			}
			if off := r.offset(t); off > offset {
				writers = append(writers, desc)
				reached = off
			}
		}
		if len(writers) > 1 {
			t.Fatalf("round %d: both PATCHes at offset %d stored bytes: %v", round+1, offset, writers)
		}
		head := e2e.Offset(t, c.at(2, u))
		if head < offset {
			t.Fatalf("round %d: HEAD offset went back from %d to %d", round+1, offset, head)
		}
		if head < reached || (!blind && head != reached) {
			t.Fatalf("round %d: HEAD offset %d, want %d as acknowledged by the writer", round+1, head, reached)
		}
		if head > offset {
			progressed++
		}
		offset = head
	}
	if progressed == 0 {
		t.Fatal("no round made progress; the test did not exercise a write racing another")
	}

	offset = e2e.Offset(t, c.at(2, u))
	if got := e2e.Patch(t, c.at(2, u), offset, data[offset:]); got != size {
		t.Fatalf("completing PATCH: Upload-Offset %d, want %d", got, size)
	}
	if got := e2e.Offset(t, c.at(0, u)); got != size {
		t.Fatalf("HEAD after completion: offset %d, want %d", got, size)
	}
	checkContent(t, c.at(1, u), data)
}

func describe(r outcome) string {
	if r.err != nil {
		return "no response: " + r.err.Error()
	}
	return fmt.Sprintf("%d %s, Upload-Offset %q, after %s", r.status, http.StatusText(r.status),
		r.header.Get("Upload-Offset"), r.took.Round(time.Millisecond))
}
