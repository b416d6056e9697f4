package s3store

import (
	"bytes"
	"context"
	"strconv"
	"sync"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"

	"github.com/tusgate/tusgate/backends/bufpool"
	"github.com/tusgate/tusgate/backends/multipart"
)

func TestConnectionsFollowTheBudget(t *testing.T) {
	cfg := Config{StoreOptions: multipart.StoreOptions{MinPartSize: 5 * MiB}}
	for _, c := range []struct {
		budget int64
		max    int
		want   int
	}{
		{64 * MiB, 0, 12 + 16}, // the default budget holds 12 parts of 5 MiB
		{5 * MiB, 0, 1 + 16},
		{1 * GiB, 0, 204 + 16},
		{64 * MiB, 7, 7},
	} {
		cfg.MaxConnections = c.max
		if got := cfg.Connections(c.budget); got != c.want {
			t.Errorf("budget %d, max_connections %d: %d connections, want %d", c.budget, c.max, got, c.want)
		}
	}
}

// TestFewConnectionsServeManyUploads caps the store at two connections
// while five uploads hold part buffers and send parts, tails and small
// requests at once: requests queue for a connection, and since no request
// holding a connection waits for a buffer, every upload completes intact.
func TestFewConnectionsServeManyUploads(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxConnections = 2
	s := newStore(t, cfg, bufpool.New(15*MiB, 0))
	tr := s.d.client.Options().HTTPClient.(*awshttp.BuildableClient).GetTransport()
	if tr.MaxConnsPerHost != 2 || tr.MaxIdleConnsPerHost != 2 {
		t.Fatalf("transport allows %d connections (%d idle), want 2", tr.MaxConnsPerHost, tr.MaxIdleConnsPerHost)
	}
	var wg sync.WaitGroup
	for i := range 5 {
		wg.Go(func() {
			id := "c" + strconv.Itoa(i)
			data := randomBytes(uint64(40+i), 12*MiB+i)
			m := newMemUpload(t, s, id, int64(len(data)), "")
			// Two requests: the first leaves a tail, the second reads it back.
			for _, chunk := range [][]byte{data[:7*MiB], data[7*MiB:]} {
				if err := s.Write(context.Background(), m.get(), bytes.NewReader(chunk), m.commit); err != nil {
					t.Error(err)
					return
				}
			}
			if err := s.Finish(context.Background(), m.get(), m.manifest()); err != nil {
				t.Error(err)
				return
			}
			if !bytes.Equal(getObject(t, s, cfg.Prefix+id), data) {
				t.Errorf("%s: object differs", id)
			}
		})
	}
	wg.Wait()
}
