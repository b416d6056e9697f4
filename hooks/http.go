package hooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"
)

// Defaults of HTTPReceiver, as tusd's.
const (
	DefaultTimeout   = 15 * time.Second
	DefaultSizeLimit = 5 << 10
)

// ErrReceiver wraps every failure to get a proper answer from a receiver.
var ErrReceiver = errors.New("hook receiver failed")

// HTTPReceiver posts each request as JSON to an endpoint and reads a JSON
// answer of at most SizeLimit bytes within Timeout. It does not retry: the
// caller decides (a blocking hook fails the request, a queued one is
// retried with backoff).
type HTTPReceiver struct {
	Endpoint string
	// Timeout bounds one call; 0 means DefaultTimeout.
	Timeout time.Duration
	// SizeLimit bounds the answer; 0 means DefaultSizeLimit.
	SizeLimit int64
	// ForwardHeaders are client request headers also set on the call to
	// the receiver (for example a tracing header).
	ForwardHeaders []string
	Client         *http.Client
}

// Invoke posts req and decodes the answer.
func (h *HTTPReceiver) Invoke(ctx context.Context, req Request) (Response, error) {
	var res Response
	body, err := json.Marshal(req)
	if err != nil {
		return res, fmt.Errorf("%w: encode %s: %w", ErrReceiver, req.Type, err)
	}
	timeout, limit := h.Timeout, h.SizeLimit
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if limit <= 0 {
		limit = DefaultSizeLimit
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, h.Endpoint, bytes.NewReader(body))
	if err != nil {
		return res, fmt.Errorf("%w: %w", ErrReceiver, err)
	}
	for _, k := range h.ForwardHeaders {
		if v, ok := req.Event.HTTPRequest.Header[http.CanonicalHeaderKey(k)]; ok {
			hr.Header[http.CanonicalHeaderKey(k)] = v
		}
	}
	hr.Header.Set("Content-Type", "application/json")
	client := h.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(hr)
	if err != nil {
		return res, fmt.Errorf("%w: %s: %w", ErrReceiver, req.Type, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return res, fmt.Errorf("%w: %s: read answer: %w", ErrReceiver, req.Type, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return res, fmt.Errorf("%w: %s: status %d", ErrReceiver, req.Type, resp.StatusCode)
	}
	if int64(len(raw)) > limit {
		return res, fmt.Errorf("%w: %s: answer longer than %d bytes", ErrReceiver, req.Type, limit)
	}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return res, fmt.Errorf("%w: %s: answer is not application/json", ErrReceiver, req.Type)
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		return res, fmt.Errorf("%w: %s: decode answer: %w", ErrReceiver, req.Type, err)
	}
	return res, nil
}
