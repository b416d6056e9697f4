package gateway

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
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
// URLs to a host of its choosing; an invalid forwarded value is ignored. With
// no valid host at all (HTTP/1.0 without Host, garbage) no URL can be built.
func (g *Gateway) origin(r *http.Request) (scheme, host string, err error) {
	scheme, host = "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if g.cfg.BehindProxy {
		p, h := parseForwarded(r.Header.Get("Forwarded"))
		if p == "" && h == "" {
			p = strings.ToLower(firstValue(r.Header.Get("X-Forwarded-Proto")))
			h = firstValue(r.Header.Get("X-Forwarded-Host"))
		}
		if p == "http" || p == "https" {
			scheme = p
		}
		if validHost(h) {
			host = h
		}
	}
	if !validHost(host) {
		return "", "", protoErr(errBadRequest, "the request has no valid Host header to build the upload URL from")
	}
	return scheme, host, nil
}

// uploadURL is the absolute URL of an upload.
func (g *Gateway) uploadURL(r *http.Request, id string) (string, error) {
	scheme, host, err := g.origin(r)
	if err != nil {
		return "", err
	}
	return scheme + "://" + host + g.cfg.BasePath + id, nil
}

// idFromURL resolves an upload URL (absolute or relative) named in an
// Upload-Concat header to an upload ID of this server.
func (g *Gateway) idFromURL(r *http.Request, raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", protoErr(errBadRequest, "Upload-Concat URL %q is malformed", raw)
	}
	if u.Host != "" {
		_, host, err := g.origin(r)
		if err != nil {
			return "", err
		}
		if !strings.EqualFold(u.Host, host) {
			return "", protoErr(errBadRequest, "Upload-Concat URL %q points to another server", raw)
		}
	}
	id, ok := strings.CutPrefix(u.Path, g.cfg.BasePath)
	if !ok || !validID(id) {
		return "", protoErr(errNotFound, "Upload-Concat URL %q is not an upload of this server", raw)
	}
	return id, nil
}

// validHost accepts host[:port] as it may stand in a URL: a DNS name, an
// IPv4 address or a bracketed IPv6 address, and an optional port 1-65535, so
// a Host or forwarded value cannot bend the upload URL.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	name, port := h, ""
	if strings.HasPrefix(h, "[") {
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return false
		}
		a, err := netip.ParseAddr(h[1:end])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return false
		}
		name, port = "", h[end+1:]
		if port != "" && !strings.HasPrefix(port, ":") {
			return false
		}
		port = strings.TrimPrefix(port, ":")
		if port == "" && end+1 < len(h) {
			return false
		}
	} else if i := strings.IndexByte(h, ':'); i >= 0 {
		name, port = h[:i], h[i+1:]
		if port == "" {
			return false
		}
	}
	if port != "" {
		if len(port) > 5 || strings.Trim(port, "0123456789") != "" {
			return false
		}
		if n, _ := strconv.Atoi(port); n < 1 || n > 65535 {
			return false
		}
	}
	return name == "" && strings.HasPrefix(h, "[") || validHostName(name)
}

// validHostName accepts DNS names (letters, digits, '-', '_' in labels of
// 1-63 characters) and dotted IPv4 addresses, which are names of that shape.
func validHostName(n string) bool {
	if n == "" || len(n) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(n, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
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
