package s3e2e

import (
	"math/rand/v2"
	"testing"

	"github.com/tusgate/tusgate/test/e2e"
)

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
		got := e2e.Patch(t, to.On(url), offset, data[offset:offset+chunk])
		if got != offset+chunk {
			t.Fatalf("PATCH %d to replica %d at %d (%d bytes): Upload-Offset %d, want %d", n, n%2, offset, chunk, got, offset+chunk)
		}
		offset = got
		if seen := e2e.Offset(t, other.On(url)); seen != offset {
			t.Fatalf("after PATCH %d the other replica's HEAD says %d, want %d", n, seen, offset)
		}
		n++
	}
	t.Logf("%d PATCHes, %d of them below the part size", n, small)
	if small < n/2 {
		t.Fatalf("only %d of %d chunks were below the part size; the test must mostly send sub-part chunks", small, n)
	}
	e.checkContent(t, replicas[1].On(url), data)
	e.checkContent(t, replicas[0].On(url), data)
}

// TestSIGKILLMidPatchFinishesOnOtherReplica kills replica A with SIGKILL
// while a PATCH streams into it, after two parts were committed; replica B
// must report an offset between those committed bytes and what the client
// sent (waiting out A's lease), and finishing there must give the source.
func TestSIGKILLMidPatchFinishesOnOtherReplica(t *testing.T) {
	t.Parallel()
	const size = 32 * MiB
	e := newEnv(t)
	k := e2e.StartTakeover(t, e.start, e.redisURL, size, 8)
	url, b, data := k.URL, k.B, k.Data

	s := startStream(t, url, 0, data)
	// 12 MiB: two full parts and a partly filled third buffer when A dies.
	if err := s.feed(12 * MiB); err != nil {
		t.Fatalf("sending the body: %v", err)
	}
	committed := k.AwaitCommitted(t, 2*partSize, func() { s.failIfEnded(t) })
	k.A.Kill()
	s.abort()
	if r := s.wait(t); r.err == nil {
		t.Fatalf("the PATCH to the killed replica got a response: %d %q", r.status, r.body)
	}

	offset := k.OffsetOnB(t, committed, s.sent)
	if got := e2e.Patch(t, b.On(url), offset, data[offset:]); got != size {
		t.Fatalf("finishing PATCH on B: Upload-Offset %d, want %d", got, size)
	}
	e.checkContent(t, b.On(url), data)
	if mpu := e.multipartUnder(t, e.key(url)); len(mpu) != 0 {
		t.Errorf("multipart uploads left after finishing: %v", mpu)
	}
}
