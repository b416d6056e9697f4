package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/tusgate/tusgate/client"
)

// tusClient uploads with the project's tus client (client/): POST to
// create, then the body in one streaming PATCH, or in PATCHes of chunk
// bytes when chunk > 0. It never retries: a benchmark run that needs a
// retry is a failed run.
type tusClient struct {
	c *client.Client
}

func newTusClient(chunk int64) (*tusClient, error) {
	t := &http.Transport{
		Proxy:               nil, // loopback only, never through a proxy
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 1024,
		DisableCompression:  true,
		WriteBufferSize:     64 << 10,
		ReadBufferSize:      64 << 10,
	}
	c, err := client.New(client.Config{HTTP: &http.Client{Transport: t}, ChunkSize: chunk, Retry: &client.Retry{}})
	if err != nil {
		return nil, fmt.Errorf("tus client: %w", err)
	}
	return &tusClient{c: c}, nil
}

// upload sends the size bytes of the stream for seed to the server at base
// and returns the upload's URL.
func (c *tusClient) upload(ctx context.Context, base string, seed uint64, size int64) (string, error) {
	info, err := c.c.Upload(ctx, newSourceAt(seed, size), size, client.UploadOptions{Endpoint: base})
	if err != nil {
		return "", err
	}
	if info.Offset != size {
		return "", fmt.Errorf("upload %s: offset %d at the end, want %d", info.URL, info.Offset, size)
	}
	return info.URL, nil
}
