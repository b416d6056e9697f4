package redisstore_test

import (
	"testing"

	"github.com/tusgate/tusgate/test/statetest"
	"github.com/tusgate/tusgate/test/testenv"
)

// standalone makes each New use the shared server; the URL is read first,
// so without it the whole test skips (or fails in CI) at once.
func standalone(t *testing.T) func(t *testing.T) *env {
	url := testenv.RedisURL(t)
	return func(t *testing.T) *env { return newEnv(t, url) }
}

func TestStoreConformance(t *testing.T) {
	t.Parallel()
	statetest.RunStore(t, harness(standalone(t)))
}

func TestLockerConformance(t *testing.T) {
	t.Parallel()
	statetest.RunLocker(t, harness(standalone(t)))
}

func TestQueueConformance(t *testing.T) {
	t.Parallel()
	statetest.RunQueue(t, harness(standalone(t)))
}

// The same suites through a Sentinel URL and against a three-node Cluster,
// where an upload's keys and the expiry index live on different nodes.

func TestSentinelConformance(t *testing.T) {
	t.Parallel()
	topo := testenv.StartRedisSentinel(t)
	h := harness(func(t *testing.T) *env { return newTopologyEnv(t, topo) })
	t.Run("Store", func(t *testing.T) { statetest.RunStore(t, h) })
	t.Run("Locker", func(t *testing.T) { statetest.RunLocker(t, h) })
	t.Run("Queue", func(t *testing.T) { statetest.RunQueue(t, h) })
}

func TestClusterConformance(t *testing.T) {
	t.Parallel()
	topo := testenv.StartRedisCluster(t)
	h := harness(func(t *testing.T) *env { return newTopologyEnv(t, topo) })
	t.Run("Store", func(t *testing.T) { statetest.RunStore(t, h) })
	t.Run("Locker", func(t *testing.T) { statetest.RunLocker(t, h) })
	t.Run("Queue", func(t *testing.T) { statetest.RunQueue(t, h) })
}
