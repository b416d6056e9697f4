package replica

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tusgate/tusgate/test/e2e"
)

// TestChunksAlternatingBetweenReplicasAssembleTheSource sends one 24 MiB
// upload in chunks of random sizes, each PATCH to the next of three
// replicas, with a HEAD on yet another replica before every PATCH. Every
// HEAD must report the offset the previous PATCH acknowledged, and the
// download from a replica other than the last two writers must be the
// source byte for byte.
func TestChunksAlternatingBetweenReplicasAssembleTheSource(t *testing.T) {
	const size = 24 * MiB
	c, data, u := threeWithUpload(t, size, 1, 0)
	seed := uint64(time.Now().UnixNano())
	t.Logf("chunk size seed %d", seed)
	rnd := rand.New(rand.NewPCG(seed, 0))

	offset, patches := int64(0), 0
	for offset < size {
		writer := patches % 3
		observer := (writer + 1) % 3 // neither the last writer nor the next one
		if got := e2e.Offset(t, c.at(observer, u)); got != offset {
			t.Fatalf("before PATCH %d: HEAD on replica %d says offset %d, the last PATCH acknowledged %d", patches+1, observer, got, offset)
		}
		n := min(int64(64<<10+rnd.IntN(3*MiB)), size-offset)
		next := e2e.Patch(t, c.at(writer, u), offset, data[offset:offset+n])
		if next != offset+n {
			t.Fatalf("PATCH %d on replica %d of %d bytes at %d: Upload-Offset %d, want %d", patches+1, writer, n, offset, next, offset+n)
		}
		offset = next
		patches++
	}
	t.Logf("%d PATCHes over 3 replicas", patches)
	// The last two PATCHes went to replicas (patches-1)%3 and (patches-2)%3.
	reader := patches % 3
	checkContent(t, c.at(reader, u), data)
}
