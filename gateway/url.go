package gateway

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// newID returns 128 random bits as 32 lowercase hex characters.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// origin returns scheme and host the client used. Forwarding headers are
// trusted only behind a proxy, otherwise any client could make us hand out
// URLs to a host of its choosing.
func (g *Gateway) origin(r *http.Request) (scheme, host string) {
	scheme, host = "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if !g.cfg.BehindProxy {
		return scheme, host
	}
	if p, h := parseForwarded(r.Header.Get("Forwarded")); p != "" || h != "" {
		if p == "http" || p == "https" {
			scheme = p
		}
		if validHost(h) {
			host = h
		}
		return scheme, host
	}
	if p := strings.ToLower(firstValue(r.Header.Get("X-Forwarded-Proto"))); p == "http" || p == "https" {
		scheme = p
	}
	if h := firstValue(r.Header.Get("X-Forwarded-Host")); validHost(h) {
		host = h
	}
	return scheme, host
}

// uploadURL is the absolute URL of an upload.
func (g *Gateway) uploadURL(r *http.Request, id string) string {
	scheme, host := g.origin(r)
	return scheme + "://" + host + g.cfg.BasePath + id
}

// idFromURL resolves an upload URL (absolute or relative) named in an
// Upload-Concat header to an upload ID of this server.
func (g *Gateway) idFromURL(r *http.Request, raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("%w: Upload-Concat URL %q is malformed", errBadRequest, raw)
	}
	if u.Host != "" {
		if _, host := g.origin(r); !strings.EqualFold(u.Host, host) {
			return "", fmt.Errorf("%w: Upload-Concat URL %q points to another server", errBadRequest, raw)
		}
	}
	id, ok := strings.CutPrefix(u.Path, g.cfg.BasePath)
	if !ok || !validID(id) {
		return "", fmt.Errorf("%w: Upload-Concat URL %q is not an upload of this server", errNotFound, raw)
	}
	return id, nil
}

// validHost accepts what can stand as host[:port] in a URL (names, IPv4,
// bracketed IPv6), so a forwarded value cannot bend the upload URL.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(".-:[]_", c) >= 0) {
			return false
		}
	}
	return true
}

// firstValue returns the first element of a comma-separated header value
// (the client-facing proxy's view when proxies chain).
func firstValue(v string) string {
	v, _, _ = strings.Cut(v, ",")
	return strings.TrimSpace(v)
}

// parseForwarded reads proto and host from the first element of an RFC 7239
// Forwarded header.
func parseForwarded(v string) (proto, host string) {
	for _, pair := range strings.Split(firstValue(v), ";") {
		k, val, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok {
			continue
		}
		val = strings.Trim(val, `"`)
		switch strings.ToLower(k) {
		case "proto":
			proto = strings.ToLower(val)
		case "host":
			host = val
		}
	}
	return proto, host
}
