// Package client is a tus 1.0.0 client: creation, creation-with-upload,
// deferred length, checksums (header or trailer), termination,
// concatenation (parallel partials, then a final), resuming a known upload
// URL, and retries with backoff that re-sync the offset by HEAD.
//
// Bytes are streamed from an io.ReaderAt (each request reads its own
// section, so retries re-read instead of buffering) or, for a stream of
// unknown length, from an io.Reader one chunk at a time.
package client

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Version is the tus protocol version this client speaks.
const Version = "1.0.0"

const offsetOctetStream = "application/offset+octet-stream"

// Errors callers can test with errors.Is.
var (
	// ErrUnsupported: the server does not offer an extension the call needs.
	ErrUnsupported = errors.New("tus extension not supported by the server")
	// ErrNotFound: the upload is gone (404/410), e.g. expired or terminated.
	ErrNotFound = errors.New("upload not found")
	// ErrChecksum: the server answered 460 Checksum Mismatch.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrProtocol: the server's answer breaks the protocol.
	ErrProtocol = errors.New("tus protocol violation")
)

// StatusError is an unexpected HTTP status. Message is a short excerpt of
// the response body.
type StatusError struct {
	Method, URL string
	Status      int
	Message     string
	// RetryAfter is the server's Retry-After, zero if absent.
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	msg := strings.TrimSpace(e.Message)
	if msg != "" {
		msg = ": " + msg
	}
	return fmt.Sprintf("%s %s: status %d%s", e.Method, e.URL, e.Status, msg)
}

// Unwrap maps tus statuses to the package's sentinels.
func (e *StatusError) Unwrap() error {
	switch e.Status {
	case http.StatusNotFound, http.StatusGone:
		return ErrNotFound
	case 460:
		return ErrChecksum
	}
	return nil
}

// Retry says how failed requests are repeated. Network errors, 423, 429,
// 500, 502, 503 and 504 are retried; other statuses are not.
type Retry struct {
	// Attempts is how many times one request is retried (0: never).
	Attempts int
	// Base is the first delay; each retry doubles it, up to Max.
	Base, Max time.Duration
}

// DefaultRetry is used when Config.Retry is nil.
var DefaultRetry = Retry{Attempts: 8, Base: 250 * time.Millisecond, Max: 20 * time.Second}

// Config configures a Client. The zero value of each field has a default.
type Config struct {
	// HTTP is the client requests go through (nil: a new http.Client
	// without a total timeout, since bodies may be large).
	HTTP *http.Client
	// Header is added to every request (auth tokens and the like).
	Header http.Header
	// ChunkSize is the most bytes one PATCH carries (0: the whole rest).
	ChunkSize int64
	// Checksum names the algorithm for Upload-Checksum ("" none), e.g.
	// "sha256"; see Algorithms.
	Checksum string
	// ChecksumTrailer sends the checksum as an HTTP trailer, computed while
	// the body streams, instead of a header computed by a first read pass.
	ChecksumTrailer bool
	// Retry is the retry policy (nil: DefaultRetry).
	Retry  *Retry
	Logger *slog.Logger
}

// Client talks to tus servers. It is safe for concurrent use.
type Client struct {
	http    *http.Client
	header  http.Header
	chunk   int64
	alg     string
	trailer bool
	retry   Retry
	log     *slog.Logger
}

// New returns a Client.
func New(cfg Config) (*Client, error) {
	c := &Client{http: cfg.HTTP, header: cfg.Header.Clone(), chunk: cfg.ChunkSize,
		alg: cfg.Checksum, trailer: cfg.ChecksumTrailer, log: cfg.Logger}
	if c.http == nil {
		c.http = &http.Client{}
	}
	if c.header == nil {
		c.header = http.Header{}
	}
	if c.chunk < 0 {
		return nil, fmt.Errorf("client: negative chunk size %d", c.chunk)
	}
	if c.alg != "" {
		if _, err := newHash(c.alg); err != nil {
			return nil, err
		}
	}
	c.retry = DefaultRetry
	if cfg.Retry != nil {
		c.retry = *cfg.Retry
	}
	if c.retry.Base <= 0 {
		c.retry.Base = DefaultRetry.Base
	}
	if c.retry.Max < c.retry.Base {
		c.retry.Max = c.retry.Base
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// Server is what OPTIONS reports.
type Server struct {
	Versions   []string
	Extensions []string
	// MaxSize is Tus-Max-Size, 0 when absent.
	MaxSize    int64
	Algorithms []string
}

// Has reports whether the server advertises extension ext.
func (s *Server) Has(ext string) bool { return contains(s.Extensions, ext) }

// HasAlgorithm reports whether the server accepts checksum algorithm alg.
func (s *Server) HasAlgorithm(alg string) bool { return contains(s.Algorithms, alg) }

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// Discover sends OPTIONS to endpoint.
func (c *Client) Discover(ctx context.Context, endpoint string) (*Server, error) {
	res, err := c.do(ctx, http.MethodOptions, endpoint, nil, nil, http.StatusOK, http.StatusNoContent)
	if err != nil {
		return nil, err
	}
	s := &Server{
		Versions:   splitList(res.Header.Get("Tus-Version")),
		Extensions: splitList(res.Header.Get("Tus-Extension")),
		Algorithms: splitList(res.Header.Get("Tus-Checksum-Algorithm")),
	}
	if v := res.Header.Get("Tus-Max-Size"); v != "" {
		if s.MaxSize, err = parseNonNeg(v); err != nil {
			return nil, fmt.Errorf("%w: Tus-Max-Size %q", ErrProtocol, v)
		}
	}
	return s, nil
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Info is an upload's state as HEAD (or creation) reports it.
type Info struct {
	URL    string
	Offset int64
	// Length is -1 while deferred (or, for an unfinished final, unknown).
	Length int64
	// Metadata is the decoded Upload-Metadata; values that are not valid
	// base64 are kept as sent.
	Metadata map[string]string
	// Concat is the raw Upload-Concat header.
	Concat string
	// Expires is Upload-Expires, zero when absent.
	Expires time.Time
}

// Complete reports whether every byte has arrived.
func (i *Info) Complete() bool { return i.Length >= 0 && i.Offset == i.Length }

// Head reads an upload's offset, length, metadata and expiry.
func (c *Client) Head(ctx context.Context, uploadURL string) (*Info, error) {
	res, err := c.do(ctx, http.MethodHead, uploadURL, nil, nil, http.StatusOK, http.StatusNoContent)
	if err != nil {
		return nil, err
	}
	info := &Info{URL: uploadURL, Length: -1, Concat: res.Header.Get("Upload-Concat")}
	off := res.Header.Get("Upload-Offset")
	if off == "" && strings.HasPrefix(info.Concat, "final") {
		// An unfinished final (concatenation-unfinished) has no offset yet.
		info.Offset = 0
	} else if info.Offset, err = parseNonNeg(off); err != nil {
		return nil, fmt.Errorf("%w: HEAD %s: Upload-Offset %q", ErrProtocol, uploadURL, off)
	}
	if v := res.Header.Get("Upload-Length"); v != "" {
		if info.Length, err = parseNonNeg(v); err != nil {
			return nil, fmt.Errorf("%w: HEAD %s: Upload-Length %q", ErrProtocol, uploadURL, v)
		}
	}
	info.Metadata = DecodeMetadata(res.Header.Get("Upload-Metadata"))
	info.Expires = parseExpires(res.Header.Get("Upload-Expires"))
	return info, nil
}

func parseExpires(v string) time.Time {
	if v == "" {
		return time.Time{}
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return time.Time{}
	}
	return t
}

// Delete terminates an upload (termination extension).
func (c *Client) Delete(ctx context.Context, uploadURL string) error {
	_, err := c.do(ctx, http.MethodDelete, uploadURL, nil, nil, http.StatusNoContent, http.StatusOK)
	return err
}

// EncodeMetadata renders an Upload-Metadata header, keys sorted so the same
// map always gives the same header.
func EncodeMetadata(meta map[string]string) string {
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+" "+base64.StdEncoding.EncodeToString([]byte(meta[k])))
	}
	return strings.Join(parts, ",")
}

// DecodeMetadata parses an Upload-Metadata header leniently.
func DecodeMetadata(h string) map[string]string {
	if strings.TrimSpace(h) == "" {
		return nil
	}
	out := map[string]string{}
	for _, pair := range strings.Split(h, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(pair), " ")
		if k == "" {
			continue
		}
		if b, err := base64.StdEncoding.DecodeString(v); err == nil {
			out[k] = string(b)
		} else {
			out[k] = v
		}
	}
	return out
}

// CreateOptions shape one POST.
type CreateOptions struct {
	// Length is the upload's size; -1 defers it (deferred length).
	Length   int64
	Metadata map[string]string
	// Partial creates an Upload-Concat: partial upload.
	Partial bool
	// Body, when set, is sent with the POST (creation-with-upload); its
	// size is BodySize bytes.
	Body     io.ReaderAt
	BodySize int64
}

// Create makes an upload at endpoint and returns its absolute URL and, for
// creation-with-upload, the offset the server took in.
func (c *Client) Create(ctx context.Context, endpoint string, o CreateOptions) (*Info, error) {
	h := http.Header{}
	if o.Length < 0 {
		h.Set("Upload-Defer-Length", "1")
	} else {
		h.Set("Upload-Length", strconv.FormatInt(o.Length, 10))
	}
	if len(o.Metadata) > 0 {
		h.Set("Upload-Metadata", EncodeMetadata(o.Metadata))
	}
	if o.Partial {
		h.Set("Upload-Concat", "partial")
	}
	var body bodyFunc
	if o.Body != nil && o.BodySize > 0 {
		h.Set("Content-Type", offsetOctetStream)
		body = c.sectionBody(o.Body, 0, o.BodySize, nil)
	}
	res, err := c.do(ctx, http.MethodPost, endpoint, h, body, http.StatusCreated)
	if err != nil {
		return nil, err
	}
	return created(endpoint, res, o.Length, o.Metadata)
}

func created(endpoint string, res *http.Response, length int64, meta map[string]string) (*Info, error) {
	loc := res.Header.Get("Location")
	if loc == "" {
		return nil, fmt.Errorf("%w: POST %s: 201 without Location", ErrProtocol, endpoint)
	}
	abs, err := resolve(endpoint, loc)
	if err != nil {
		return nil, err
	}
	info := &Info{URL: abs, Length: length, Metadata: meta, Expires: parseExpires(res.Header.Get("Upload-Expires"))}
	if v := res.Header.Get("Upload-Offset"); v != "" {
		if info.Offset, err = parseNonNeg(v); err != nil {
			return nil, fmt.Errorf("%w: POST %s: Upload-Offset %q", ErrProtocol, endpoint, v)
		}
	}
	return info, nil
}

// Concat creates a final upload from finished partials (concatenation).
func (c *Client) Concat(ctx context.Context, endpoint string, partials []string, meta map[string]string) (*Info, error) {
	if len(partials) == 0 {
		return nil, errors.New("client: concatenation needs at least one partial")
	}
	h := http.Header{}
	h.Set("Upload-Concat", "final;"+strings.Join(partials, " "))
	if len(meta) > 0 {
		h.Set("Upload-Metadata", EncodeMetadata(meta))
	}
	res, err := c.do(ctx, http.MethodPost, endpoint, h, nil, http.StatusCreated)
	if err != nil {
		return nil, err
	}
	return created(endpoint, res, -1, meta)
}

func resolve(base, ref string) (string, error) {
	b, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("client: endpoint %q: %w", base, err)
	}
	r, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("%w: Location %q: %v", ErrProtocol, ref, err)
	}
	return b.ResolveReference(r).String(), nil
}

func parseNonNeg(v string) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse %q: %w", v, err)
	}
	if n < 0 {
		return 0, fmt.Errorf("negative value %d", n)
	}
	return n, nil
}
