package fault

import (
	"context"
	"errors"
	"path"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tusgate/tusgate/client"
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

	// Half the announced length, sent with the POST: a committed part and a
	// tail, then silence.
	abandon := newGoClient()
	var abandoned []string
	for i := range 3 {
		data := source(7*MiB+i, uint64(300+i))
		base := bases[i%len(bases)]
		info, err := abandon.create(ctx, base, 2*int64(len(data)), data)
		if err != nil || info.Offset != int64(len(data)) {
			t.Fatalf("POST with the first half of an upload: %+v, %v", info, err)
		}
		abandoned = append(abandoned, info.URL)
	}

	slow := newGoClient()
	slow.pace = 20 * time.Millisecond // about 3 MiB/s: longer than the expiry
	b := newBatch()
	for i := range 4 {
		b.start(ctx, e, slow, "", source(14*MiB+i, uint64(320+i)), rotate(bases, i))
	}
	got := b.wait()

	rc := redisClient(t, e.redis.URL)
	deadline := time.Now().Add(time.Minute)
	for _, u := range abandoned {
		id := path.Base(u)
		for {
			info, err := slow.head(ctx, bases[0], bases[0]+id)
			if errors.Is(err, client.ErrNotFound) { // 404 or 410
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("abandoned upload %s still there a minute after its expiry: %+v %v", id, info, err)
			}
			time.Sleep(250 * time.Millisecond)
		}
		keys, err := rc.Keys(ctx, "*{"+id+"}*").Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if k[len(k)-2:] == ":u" || k[len(k)-2:] == ":p" {
				t.Errorf("swept upload %s still has state key %s", id, k)
			}
		}
	}
	check(t, e, "expiry sweeping while uploads are active", got, 0, &slow.recorder)
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
