package replica

import (
	"net/http"
	"testing"
	"time"

	"github.com/tusgate/tusgate/test/e2e"
)

// TestUploadResumesOnAnotherReplicaAfterSIGKILL kills a replica with SIGKILL
// while it streams a PATCH, after it has written more than the file
// backend's commit interval of it. Another replica must then report an
// offset between what was acknowledged (nothing) and what the client sent,
// above zero (a commit happened), possibly after waiting for the dead
// holder's lease to lapse; finishing from there through it must give the
// source exactly.
func TestUploadResumesOnAnotherReplicaAfterSIGKILL(t *testing.T) {
	const size = 32 * MiB
	c, data, u := threeWithUpload(t, size, 4, 1)

	sp := startStream(t, c.at(0, u), 0, data, size, time.Millisecond)
	// The file backend commits every 16 MiB (and every second), before it
	// writes on, so 20 MiB in the file means at least one commit.
	sp.awaitStored(t, c.dataFile(u), 20*MiB)
	c.nodes[0].Kill()
	sp.abort()
	if r := sp.wait(t); r.err == nil {
		t.Fatalf("the PATCH got a response (%d %q) although the replica was killed before the body was sent", r.status, r.body)
	}
	sent := sp.sent.Load()

	// The dead replica's lease is still in Redis; the HEAD waits for it
	// to lapse (it cannot be asked to release).
	head := send(t, http.MethodHead, c.at(1, u), nil, nil, lockTimeout+5*time.Second)
	if head.status != http.StatusOK {
		t.Fatalf("HEAD on replica 1 after the kill: status %d, want 200", head.status)
	}
	offset := uploadOffset(t, head.header)
	t.Logf("killed after the client sent %s; replica 1 reports %s after %s (lease TTL %s)", mib(sent), mib(offset), head.took, leaseTTL)
	if offset <= 0 || offset > sent {
		t.Fatalf("offset after the kill is %d, want above 0 and at most the %d bytes sent", offset, sent)
	}
	if got := e2e.Patch(t, c.at(1, u), offset, data[offset:]); got != size {
		t.Fatalf("PATCH on replica 1 from %d: Upload-Offset %d, want %d", offset, got, size)
	}
	checkContent(t, c.at(2, u), data)
}
