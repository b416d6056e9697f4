package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tusgate/tusgate/backends/bufpool"
	"github.com/tusgate/tusgate/backends/s3store"
	"github.com/tusgate/tusgate/gateway"
	"github.com/tusgate/tusgate/state/redisstore"
	"github.com/tusgate/tusgate/test/testenv"
)

// BenchmarkGatewayS3Upload runs the gateway in this process, wired as
// cmd/tusgate wires it (S3 backend, Redis state, 64 MiB buffer budget,
// 8 MiB parts), and uploads through it with the benchmark's tus client, so
// that go test's -cpuprofile, -blockprofile and -trace show where the
// gateway's time goes. With TUSBENCH_HEAP_PROFILE=FILE the concurrent case
// also writes a heap profile while most uploads wait for buffers, to show
// what each waiting upload holds, and with TUSBENCH_GOROUTINE_PROFILE=FILE
// the goroutines at that moment (text, grouped by stack). It is a profiling aid, not part of the
// test suite; the figures in docs/benchmarks.md come from cmd/tusbench.
//
//	TUSGATE_TEST_S3_ENDPOINT=http://127.0.0.1:9100 TUSGATE_TEST_S3_BUCKET=tusbench \
//	TUSGATE_TEST_REDIS_URL=redis://127.0.0.1:6391/0 \
//	go test -run '^$' -bench GatewayS3Upload/1x -benchtime 4x -cpuprofile cpu.out ./cmd/tusbench/
func BenchmarkGatewayS3Upload(b *testing.B) {
	b.Run("1x256MiB", func(b *testing.B) { benchGateway(b, 1, 256<<20) })
	b.Run("256x8MiB", func(b *testing.B) { benchGateway(b, 256, 8<<20) })
}

func benchGateway(b *testing.B, count int, size int64) {
	endpoint, bucket := testenv.S3Endpoint(b)
	redisURL := testenv.RedisURL(b)
	ctx := context.Background()
	prefix := "tusbench-profile/" + strings.ToLower(rand.Text()[:8]) + "/"

	q := url.Values{"endpoint": {endpoint}, "path_style": {"true"}, "part_size": {"8MiB"}}
	u, err := url.Parse(fmt.Sprintf("s3://%s/%s?%s", bucket, prefix, q.Encode()))
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := s3store.ParseURL(u)
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	pool := bufpool.New(64<<20, 0)
	be, err := s3store.New(ctx, cfg, pool, log)
	if err != nil {
		b.Fatal(err)
	}
	st, err := redisstore.Open(ctx, redisURL, redisstore.Options{Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	gw, err := gateway.New(gateway.Config{Logger: log, Registerer: prometheus.NewRegistry()}, st, st, be)
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(gw)
	defer srv.Close()
	bk, err := newBucket(ctx, endpoint, "us-east-1", bucket)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = bk.clear(context.Background(), prefix) }()

	client, err := newTusClient(0)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size * int64(count))
	var snapshot sync.Once
	iter := 0
	for b.Loop() {
		done := make(chan struct{})
		heapPath, goPath := os.Getenv("TUSBENCH_HEAP_PROFILE"), os.Getenv("TUSBENCH_GOROUTINE_PROFILE")
		if (heapPath != "" || goPath != "") && count > 1 {
			go func() {
				for pool.Stats().Waiting < count/2 {
					select {
					case <-done:
						return
					case <-time.After(5 * time.Millisecond):
					}
				}
				snapshot.Do(func() {
					writeProfile(b, "heap", heapPath, 0)
					writeProfile(b, "goroutine", goPath, 1)
				})
			}()
		}
		var wg sync.WaitGroup
		errs := make([]error, count)
		for i := range count {
			wg.Go(func() {
				_, errs[i] = client.upload(ctx, srv.URL+"/files/", seedFor(iter, i), size)
			})
		}
		wg.Wait()
		close(done)
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
		iter++
	}
}

// writeProfile writes the named profile to path ("" writes nothing).
func writeProfile(b *testing.B, name, path string, debug int) {
	if path == "" {
		return
	}
	runtime.GC()
	f, err := os.Create(path)
	if err != nil {
		b.Error(err)
		return
	}
	defer f.Close()
	if err := pprof.Lookup(name).WriteTo(f, debug); err != nil {
		b.Error(err)
	}
}
