package s3e2e

import (
	"math/rand/v2"
	"net/http"
	"path"
	"testing"

	"github.com/tusgate/tusgate/test/e2e"
)

// on is uploadURL as served by replica p.
func on(p *e2e.Proc, uploadURL string) string { return p.URL + path.Base(uploadURL) }

// TestRandomChunksAlternateBetweenReplicas sends 100 MiB in seeded random
// chunk sizes, most below the 5 MiB part size, each PATCH to the other of
// two replicas sharing Redis and the bucket, with a HEAD on the replica not
// written to after each; the object must equal the source.
func TestRandomChunksAlternateBetweenReplicas(t *testing.T) {
	t.Parallel()
	const size = 100 * MiB
	e := newEnv(t)
	replicas := []*e2e.Proc{e.start(t), e.start(t)}
	data := sourceData(size, 7)
	rng := rand.New(rand.NewPCG(7, 7))

	url := e2e.Create(t, replicas[0].URL, size, nil)
	var offset int64
	small, n := 0, 0
	for offset < size {
		chunk := int64(1 + rng.IntN(partSize-1)) // 1 B .. 5 MiB-1
		if rng.IntN(10) < 2 {
			chunk = int64(partSize + rng.IntN(8*MiB)) // 5 .. 13 MiB
		}
		chunk = min(chunk, size-offset)
		if chunk < partSize {
			small++
		}
		to, other := replicas[n%2], replicas[(n+1)%2]
		got := e2e.Patch(t, on(to, url), offset, data[offset:offset+chunk])
		if got != offset+chunk {
			t.Fatalf("PATCH %d to replica %d at %d (%d bytes): Upload-Offset %d, want %d", n, n%2, offset, chunk, got, offset+chunk)
		}
		offset = got
		if seen := e2e.Offset(t, on(other, url)); seen != offset {
			t.Fatalf("after PATCH %d the other replica's HEAD says %d, want %d", n, seen, offset)
		}
		n++
	}
	t.Logf("%d PATCHes, %d of them below the part size", n, small)
	if small < n/2 {
		t.Fatalf("only %d of %d chunks were below the part size; the test must mostly send sub-part chunks", small, n)
	}
	e.checkContent(t, on(replicas[1], url), data)
	e.checkContent(t, on(replicas[0], url), data)
}

// TestSIGKILLMidPatchFinishesOnOtherReplica kills replica A with SIGKILL
// while a PATCH streams into it, after two parts were committed; replica B
// must report an offset between those committed bytes and what the client
// sent (waiting out A's lease), and finishing there must give the source.
func TestSIGKILLMidPatchFinishesOnOtherReplica(t *testing.T) {
	t.Parallel()
	const size = 32 * MiB
	e := newEnv(t)
	a := e.start(t, "--lease-ttl", "2s")
	b := e.start(t, "--lease-ttl", "2s")
	st := e.stateReader(t)
	data := sourceData(size, 8)

	url := e2e.Create(t, a.URL, size, nil)
	s := startStream(t, url, 0, data)
	// 12 MiB: two full parts and a partly filled third buffer when A dies.
	if err := s.feed(12 * MiB); err != nil {
		t.Fatalf("sending the body: %v", err)
	}
	committed := awaitCommitted(t, st, url, 2*partSize, s)
	a.Kill()
	s.abort()
	if r := s.wait(t); r.err == nil {
		t.Fatalf("the PATCH to the killed replica got a response: %d %q", r.status, r.body)
	}

	res := e2e.Head(t, on(b, url))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("HEAD on B: status %d, want 200", res.StatusCode)
	}
	offset := parseInt(t, res.Header.Get("Upload-Offset"))
	t.Logf("A committed %d before SIGKILL; client sent %d; B reports %d", committed, s.sent, offset)
	if offset < committed || offset > s.sent {
		t.Fatalf("B's offset %d is outside [%d committed, %d sent]", offset, committed, s.sent)
	}
	if got := e2e.Patch(t, on(b, url), offset, data[offset:]); got != size {
		t.Fatalf("finishing PATCH on B: Upload-Offset %d, want %d", got, size)
	}
	e.checkContent(t, on(b, url), data)
	if mpu := e.multipartUnder(t, e.key(url)); len(mpu) != 0 {
		t.Errorf("multipart uploads left after finishing: %v", mpu)
	}
}
