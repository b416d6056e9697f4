package fault

import (
	"context"
	"net/http"
	"path"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestExpiryWhileUploadsAreActive sweeps every 500 ms with a 4 s expiry
// while slow uploads run (each takes longer than the expiry; only their
// commits keep them alive) and others were abandoned after a committed
// part and a tail. Nothing active may be swept: all of them finish intact.
// Everything abandoned must go: HEAD answers 404 or 410, its state keys are
// gone from Redis, and the bucket keeps no multipart upload, tail or part
// object of it (the leak check allows only the finished objects).
func TestExpiryWhileUploadsAreActive(t *testing.T) {
	e := newEnv(t, 3, false, "--expiration", "4s", "--sweep-interval", "500ms")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bases := e.bases()

	// Half the announced length: a committed part and a tail, then silence.
	abandon := newResumingClient()
	var abandoned []string
	for i := range 3 {
		data := source(7*MiB+i, uint64(300+i))
		base := bases[i%len(bases)]
		id, err := abandon.create(ctx, base, 2*int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		if off, err := abandon.patch(ctx, base+id, 0, data); err != nil || off != int64(len(data)) {
			t.Fatalf("PATCH of the first half of %s: offset %d, %v", id, off, err)
		}
		abandoned = append(abandoned, id)
	}

	slow := newResumingClient()
	slow.pace = 20 * time.Millisecond // about 3 MiB/s: longer than the expiry
	b := newBatch()
	for i := range 4 {
		b.start(ctx, e, slow, "", source(14*MiB+i, uint64(320+i)), rotate(bases, i))
	}
	got := b.wait()

	rc := redisClient(t, e.redis.URL)
	deadline := time.Now().Add(time.Minute)
	for _, id := range abandoned {
		for {
			res, err := slow.do(ctx, http.MethodHead, bases[0]+id, nil, nil, 10*time.Second)
			gone := err == nil && (res.StatusCode == http.StatusNotFound || res.StatusCode == http.StatusGone)
			if gone {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("abandoned upload %s still there a minute after its expiry: %v %v", id, res, err)
			}
			time.Sleep(250 * time.Millisecond)
		}
		keys, err := rc.Keys(ctx, "*{"+path.Base(id)+"}*").Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if k[len(k)-2:] == ":u" || k[len(k)-2:] == ":p" {
				t.Errorf("swept upload %s still has state key %s", id, k)
			}
		}
	}
	check(t, e, "expiry sweeping while uploads are active", got, 0, slow)
}

func redisClient(t *testing.T, rawURL string) *redis.Client {
	t.Helper()
	o, err := redis.ParseURL(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(o)
	t.Cleanup(func() { _ = c.Close() })
	return c
}
