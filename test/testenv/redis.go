package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// RedisURL returns the Redis that integration tests use, from
// TUSGATE_TEST_REDIS_URL (e.g. redis://127.0.0.1:6390/0, started by
// scripts/services/redis.sh). When it is unset the test is skipped, or fails
// if TUSGATE_REQUIRE_SERVICES=1 (CI), so nothing is silently skipped there.
func RedisURL(t testing.TB) string {
	t.Helper()
	return Getenv(t, "TUSGATE_TEST_REDIS_URL not set; run scripts/test.sh", "TUSGATE_TEST_REDIS_URL")[0]
}

// RedisServer is a private redis-server owned by one test, for tests that
// stop or restart Redis: doing that to the shared server would break the
// tests of other packages running at the same time.
type RedisServer struct {
	// URL points at the server (redis://127.0.0.1:PORT/0).
	URL string
	// Addr is its host:port.
	Addr string
	port int
	dir  string
	env  []string // extra environment for redis.sh (topology)
}

// StartRedis starts a private redis-server (AOF on, appendfsync always) on a
// free loopback port with its data in t.TempDir(), using
// scripts/services/redis.sh, and stops it when the test ends. It follows
// RedisURL's skip/fail rule, since it needs the same installed server.
func StartRedis(t testing.TB) *RedisServer {
	t.Helper()
	return startRedis(t)
}

func startRedis(t testing.TB, env ...string) *RedisServer {
	t.Helper()
	return startRedisOn(t, FreePort(t), env...)
}

func startRedisOn(t testing.TB, port int, env ...string) *RedisServer {
	t.Helper()
	RedisURL(t)
	r := &RedisServer{
		URL:  fmt.Sprintf("redis://127.0.0.1:%d/0", port),
		Addr: fmt.Sprintf("127.0.0.1:%d", port),
		port: port,
		dir:  t.TempDir(),
		env:  env,
	}
	r.Start(t)
	t.Cleanup(func() { r.Stop(t) })
	return r
}

// FreePort returns a loopback port nothing listens on right now.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		t.Fatalf("free port: %v", err)
	}
	return port
}

// freeClusterPort finds a free port whose cluster bus port (+10000) is
// valid and free too.
func freeClusterPort(t testing.TB) int {
	t.Helper()
	for range 100 {
		p := FreePort(t)
		if p+10000 > 65535 {
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p+10000))
		if err != nil {
			continue
		}
		if err := l.Close(); err != nil {
			t.Fatalf("free port: %v", err)
		}
		return p
	}
	t.Fatal("no free port pair for a cluster node")
	return 0
}

// RedisTopology is a private Sentinel or Cluster deployment for one test.
type RedisTopology struct {
	// URL is the redisstore URL for it (redis+sentinel://... or redis+cluster://...).
	URL string
	// Addrs are the data nodes (the master for Sentinel), for a raw client.
	Addrs []string
}

// StartRedisCluster starts a private three-master Redis Cluster (no
// replicas) and waits until it serves all slots. Stopped when the test ends.
func StartRedisCluster(t testing.TB) RedisTopology {
	t.Helper()
	var topo RedisTopology
	for range 3 {
		topo.Addrs = append(topo.Addrs, startRedisOn(t, freeClusterPort(t), "REDIS_CLUSTER=1").Addr)
	}
	args := append([]string{"--cluster", "create"}, topo.Addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, a := range topo.Addrs {
		waitFor(t, "cluster_state:ok on "+a, func() bool {
			out, _ := exec.Command("redis-cli", "-h", "127.0.0.1", "-p", portOf(a), "cluster", "info").Output()
			return strings.Contains(string(out), "cluster_state:ok")
		})
	}
	topo.URL = "redis+cluster://" + strings.Join(topo.Addrs, ",")
	return topo
}

// StartRedisSentinel starts a private master and one sentinel watching it
// as "mymaster". Stopped when the test ends.
func StartRedisSentinel(t testing.TB) RedisTopology {
	t.Helper()
	master := startRedis(t)
	sentinel := startRedis(t, "REDIS_SENTINEL_MASTER="+master.Addr)
	waitFor(t, "sentinel to know mymaster", func() bool {
		out, _ := exec.Command("redis-cli", "-h", "127.0.0.1", "-p", portOf(sentinel.Addr),
			"sentinel", "get-master-addr-by-name", "mymaster").Output()
		return strings.Contains(string(out), portOf(master.Addr))
	})
	return RedisTopology{URL: "redis+sentinel://" + sentinel.Addr + "/mymaster/0", Addrs: []string{master.Addr}}
}

func portOf(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

// waitFor polls cond with a generous deadline.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: gave up after 30s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Start starts the server again on the same port and data directory (it
// reloads its AOF). Starting a running server does nothing.
func (r *RedisServer) Start(t testing.TB) {
	t.Helper()
	r.script(t, "start")
}

// Stop shuts the server down cleanly (SHUTDOWN flushes the AOF).
func (r *RedisServer) Stop(t testing.TB) {
	t.Helper()
	r.script(t, "stop")
}

// Restart stops and starts the server, keeping its data.
func (r *RedisServer) Restart(t testing.TB) {
	t.Helper()
	r.Stop(t)
	r.Start(t)
}

func (r *RedisServer) script(t testing.TB, cmd string) {
	t.Helper()
	RunService(t, "redis.sh", cmd, r.dir, append([]string{"REDIS_PORT=" + strconv.Itoa(r.port)}, r.env...))
}

// RunService runs scripts/services/NAME (start or stop) for a private
// instance in dir, with env added.
func RunService(t testing.TB, name, cmd, dir string, env []string) {
	t.Helper()
	c := exec.Command("bash", filepath.Join(redisScriptDir(t), name), cmd, dir)
	c.Env = append(os.Environ(), env...)
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, cmd, err, out)
	}
}

// redisScriptDir is found from this source file, so it works from any package.
func redisScriptDir(t testing.TB) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the testenv source file")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "scripts", "services")
}
