package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// tusClient is a minimal tus 1.0 client: POST to create, then the body in
// one streaming PATCH, or in PATCHes of chunk bytes when chunk > 0.
type tusClient struct {
	http  *http.Client
	chunk int64
}

func newTusClient(chunk int64) *tusClient {
	t := &http.Transport{
		Proxy:               nil, // loopback only, never through a proxy
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 1024,
		DisableCompression:  true,
		WriteBufferSize:     64 << 10,
		ReadBufferSize:      64 << 10,
	}
	return &tusClient{http: &http.Client{Transport: t}, chunk: chunk}
}

// upload sends size bytes of src to the server at base and returns the
// upload's URL.
func (c *tusClient) upload(ctx context.Context, base string, src io.Reader, size int64) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Length", strconv.FormatInt(size, 10))
	res, err := c.do(req, http.StatusCreated)
	if err != nil {
		return "", err
	}
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil || res.Header.Get("Location") == "" {
		return "", fmt.Errorf("POST %s: bad Location %q", base, res.Header.Get("Location"))
	}
	baseURL, _ := url.Parse(base) // it worked for the request
	upload := baseURL.ResolveReference(loc).String()

	for offset := int64(0); offset < size; {
		n := size - offset
		if c.chunk > 0 {
			n = min(n, c.chunk)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPatch, upload, io.LimitReader(src, n))
		if err != nil {
			return "", err
		}
		req.ContentLength = n
		req.Header.Set("Tus-Resumable", "1.0.0")
		req.Header.Set("Content-Type", "application/offset+octet-stream")
		req.Header.Set("Upload-Offset", strconv.FormatInt(offset, 10))
		res, err := c.do(req, http.StatusNoContent)
		if err != nil {
			return "", err
		}
		got, err := strconv.ParseInt(res.Header.Get("Upload-Offset"), 10, 64)
		if err != nil || got != offset+n {
			return "", fmt.Errorf("PATCH %s at %d: Upload-Offset %q, want %d", upload, offset, res.Header.Get("Upload-Offset"), offset+n)
		}
		offset = got
	}
	return upload, nil
}

// do sends req and insists on the status want; the body is drained so the
// connection is reused.
func (c *tusClient) do(req *http.Request, want int) (*http.Response, error) {
	res, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 4<<10))
	if res.StatusCode != want {
		return nil, fmt.Errorf("%s %s: status %d, want %d: %s", req.Method, req.URL, res.StatusCode, want, body)
	}
	return res, nil
}
