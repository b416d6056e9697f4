package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"io/fs"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// RequestDeadline bounds one helper request; uploads in these tests are at
// most tens of MiB over loopback.
const RequestDeadline = 2 * time.Minute

// NewRequest is an http.Request with Tus-Resumable set.
func NewRequest(ctx context.Context, method, url string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Tus-Resumable", "1.0.0")
	return req, nil
}

// Do sends req and fails the test if it could not be sent. The caller
// closes the body.
func Do(t testing.TB, req *http.Request) *http.Response {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	return res
}

// Req is a request with Tus-Resumable set and a deadline of
// RequestDeadline (cancelled when the test ends); errors fail the test.
func Req(t testing.TB, method, url string, body io.Reader) *http.Request {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), RequestDeadline)
	t.Cleanup(cancel)
	req, err := NewRequest(ctx, method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// Create makes an upload of the given length at base (a Proc's URL) and
// returns its absolute URL. extra headers (e.g. Upload-Metadata) are added.
func Create(t testing.TB, base string, length int64, extra http.Header) string {
	t.Helper()
	req := Req(t, http.MethodPost, base, nil)
	req.Header.Set("Upload-Length", strconv.FormatInt(length, 10))
	for k, vs := range extra {
		req.Header[k] = vs
	}
	res := Do(t, req)
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("POST %s: status %d, want 201: %s", base, res.StatusCode, body)
	}
	loc := res.Header.Get("Location")
	if loc == "" {
		t.Fatalf("POST %s: 201 without Location", base)
	}
	return loc
}

// Head sends HEAD and returns the response (body closed).
func Head(t testing.TB, url string) *http.Response {
	t.Helper()
	res := Do(t, Req(t, http.MethodHead, url, nil))
	res.Body.Close()
	return res
}

// Offset returns the Upload-Offset a HEAD reports; anything but 200 with a
// valid offset fails the test.
func Offset(t testing.TB, url string) int64 {
	t.Helper()
	res := Head(t, url)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("HEAD %s: status %d, want 200", url, res.StatusCode)
	}
	return headerInt(t, res, "Upload-Offset")
}

// Patch sends data at offset, expects 204 and returns the new offset.
func Patch(t testing.TB, url string, offset int64, data []byte) int64 {
	t.Helper()
	req := Req(t, http.MethodPatch, url, bytes.NewReader(data))
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	req.Header.Set("Upload-Offset", strconv.FormatInt(offset, 10))
	res := Do(t, req)
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("PATCH %s at %d (%d bytes): status %d, want 204: %s", url, offset, len(data), res.StatusCode, body)
	}
	return headerInt(t, res, "Upload-Offset")
}

// DownloadSHA256 GETs a finished upload and returns the SHA-256 and size of
// its content.
func DownloadSHA256(t testing.TB, url string) (sum [sha256.Size]byte, size int64) {
	t.Helper()
	res := Do(t, Req(t, http.MethodGet, url, nil))
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(res.Body)
		t.Fatalf("GET %s: status %d, want 200: %s", url, res.StatusCode, body)
	}
	h := sha256.New()
	n, err := io.Copy(h, res.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", url, err)
	}
	copy(sum[:], h.Sum(nil))
	return sum, n
}

// Discover sends OPTIONS to base and returns the response (body closed).
func Discover(t testing.TB, base string) *http.Response {
	t.Helper()
	res := Do(t, Req(t, http.MethodOptions, base, nil))
	res.Body.Close()
	if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusNoContent {
		t.Fatalf("OPTIONS %s: status %d", base, res.StatusCode)
	}
	return res
}

func headerInt(t testing.TB, res *http.Response, name string) int64 {
	t.Helper()
	v := res.Header.Get(name)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		t.Fatalf("%s %s: %s %q is not a non-negative integer", res.Request.Method, res.Request.URL, name, v)
	}
	return n
}

// StoredBytes is the total size of the regular files under dir: for the
// file backend, how many upload bytes the server has written so far
// (durable or not). Tests use it to act once the server has really read a
// given amount of a request body.
func StoredBytes(t testing.TB, dir string) int64 {
	t.Helper()
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		total += info.Size()
		return nil
	})
	if err != nil {
		t.Fatalf("e2e: size of %s: %v", dir, err)
	}
	return total
}

// Eventually polls cond until it holds, failing the test with what after
// deadline. It waits for an event; it does not time one.
func Eventually(t testing.TB, deadline time.Duration, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(deadline)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("gave up after %s waiting for %s", deadline, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
