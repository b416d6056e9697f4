package gateway

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// Fuzz targets for the header parsers. With plain `go test` they run their
// seed corpus (the edge cases of the protocol checklist); CI also runs each
// for a few seconds with -fuzz. Each checks a property that holds for every
// input, not just "no panic".

// withoutCRLF drops CR and LF, which encoding/base64 skips even in strict
// mode; net/http never lets them into a header value.
var withoutCRLF = strings.NewReplacer("\r", "", "\n", "")

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{
		"", "0", "1", "100", "007", "-1", "+1", "abc", "1e3", "1.5", " 1", "1 ", "0x10",
		"9223372036854775807", "9223372036854775808", "99999999999999999999",
		"00000000000000000001", "١٢٣", "1_000",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		n, err := parseSize("Upload-Offset", v)
		ref, refErr := strconv.ParseInt(v, 10, 64)
		digits := v != "" && strings.Trim(v, "0123456789") == ""
		if err != nil {
			if !errors.Is(err, errBadRequest) {
				t.Fatalf("parseSize(%q): error %v does not wrap errBadRequest", v, err)
			}
			if !strings.Contains(err.Error(), "Upload-Offset") {
				t.Fatalf("parseSize(%q): error %q does not name the header", v, err)
			}
			// Plain decimals of at most 19 digits that fit in int64 must be
			// accepted (longer ones are zero-padded and refused on purpose).
			if digits && refErr == nil && len(v) <= 19 {
				t.Fatalf("parseSize(%q) refused a valid non-negative decimal: %v", v, err)
			}
			return
		}
		if !digits || refErr != nil || ref != n || n < 0 {
			t.Fatalf("parseSize(%q) = %d, but strconv says %d, %v (digits only: %v)", v, n, ref, refErr, digits)
		}
	})
}

func FuzzParseMetadata(f *testing.F) {
	for _, s := range []string{
		"", "filename d29ybGQ=,is_confidential", "filename d29ybGQ=", "key", "key ", "a ,b",
		"filename d29ybGQ=, filetype dGV4dC9wbGFpbg==", "k dGVzdA==,k dGVzdA==", " dGVzdA==",
		",", "a,,b", "kéy dGVzdA==", "a !!!", "a dGVzdA", "a dGVzdA== x", "a\tdGVzdA==",
		"a dGVzdA==\t", "a dGVzdA==,", "a DQo=", "\x7f dGVzdA==", "a  dGVzdA==",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		md, err := parseMetadata(v)
		if err != nil {
			if !errors.Is(err, errBadRequest) {
				t.Fatalf("parseMetadata(%q): error %v does not wrap errBadRequest", v, err)
			}
			return
		}
		pairs := 0
		if v != "" {
			pairs = strings.Count(v, ",") + 1
		}
		if len(md) != pairs {
			t.Fatalf("parseMetadata(%q) = %d keys for %d pairs", v, len(md), pairs)
		}
		for key, val := range md {
			if key == "" {
				t.Fatalf("parseMetadata(%q): empty key accepted", v)
			}
			for i := 0; i < len(key); i++ {
				if c := key[i]; c <= ' ' || c >= 0x7f || c == ',' {
					t.Fatalf("parseMetadata(%q): key %q has byte %#x, not printable ASCII", v, key, c)
				}
			}
			// The value must be the canonical encoding of what was decoded,
			// so the stored raw header means exactly what we parsed.
			enc := base64.StdEncoding.EncodeToString([]byte(val))
			want := key
			if enc != "" {
				want += " " + enc
			}
			if !metadataHasPair(withoutCRLF.Replace(v), want) {
				t.Fatalf("parseMetadata(%q): decoded %q=%q, but no pair reads %q", v, key, val, want)
			}
		}
	})
}

// metadataHasPair reports whether header v has the pair want, allowing the
// optional whitespace around pairs and after an empty value.
func metadataHasPair(v, want string) bool {
	for _, p := range strings.Split(v, ",") {
		p = strings.TrimRight(strings.TrimLeft(p, " \t"), " \t")
		if p == want {
			return true
		}
	}
	return false
}

func FuzzParseConcat(f *testing.F) {
	for _, s := range []string{
		"partial", "final;/files/a /files/b", "final;http://h/files/a", "final;", "final", "partial;x",
		"Final;/files/a", "final;/files/a  /files/b", "final; /files/a", "final;/files/a ", " partial",
		"final;/files/a /files/a",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		cr, err := parseConcat(v)
		if err != nil {
			if !errors.Is(err, errBadRequest) {
				t.Fatalf("parseConcat(%q): error %v does not wrap errBadRequest", v, err)
			}
			return
		}
		if cr.partial {
			if v != "partial" || len(cr.urls) != 0 {
				t.Fatalf("parseConcat(%q) = partial with %d URLs", v, len(cr.urls))
			}
			return
		}
		if len(cr.urls) == 0 {
			t.Fatalf("parseConcat(%q) = final without URLs", v)
		}
		for _, u := range cr.urls {
			if u == "" || strings.Contains(u, " ") {
				t.Fatalf("parseConcat(%q): URL %q is empty or has a space", v, u)
			}
		}
		if got := "final;" + strings.Join(cr.urls, " "); got != v {
			t.Fatalf("parseConcat(%q) does not round-trip: %q", v, got)
		}
	})
}

func FuzzParseChecksum(f *testing.F) {
	zero := func(n int) string { return base64.StdEncoding.EncodeToString(make([]byte, n)) }
	for _, s := range []string{
		"sha1 " + zero(20), "md5 " + zero(16), "sha256 " + zero(32), "sha512 " + zero(64), "crc32 " + zero(4),
		"sha1 " + zero(16), "md9 AAAA", "sha1xyz", "sha1", "sha1 ", " " + zero(20), "SHA1 " + zero(20),
		"sha1 !!!", "sha1  " + zero(20), "sha1 " + zero(20) + " ", "sha1 " + strings.TrimRight(zero(20), "="),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		ck, err := parseChecksum(v)
		if err != nil {
			if !errors.Is(err, errBadRequest) && !errors.Is(err, errChecksumMismatch) {
				t.Fatalf("parseChecksum(%q): error %v wraps neither errBadRequest nor errChecksumMismatch", v, err)
			}
			return
		}
		h := newHash(ck.algorithm)
		if h == nil {
			t.Fatalf("parseChecksum(%q) accepted algorithm %q that cannot be computed", v, ck.algorithm)
		}
		if len(ck.digest) != h.Size() {
			t.Fatalf("parseChecksum(%q): %d-byte digest for %s, want %d", v, len(ck.digest), ck.algorithm, h.Size())
		}
		if got := ck.algorithm + " " + base64.StdEncoding.EncodeToString(ck.digest); got != withoutCRLF.Replace(v) {
			t.Fatalf("parseChecksum(%q) does not round-trip: %q", v, got)
		}
	})
}

func FuzzValidID(f *testing.F) {
	for _, s := range []string{
		newID(), "0123456789abcdef0123456789abcdef", "0123456789ABCDEF0123456789abcdef",
		"0123456789abcdef0123456789abcde", "0123456789abcdef0123456789abcdef0", "../../../../etc/passwd",
		"", "0123456789abcdef0123456789abcdeg", "0123456789abcdef0123456789abcd\x00f",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		dec, err := hex.DecodeString(id)
		want := len(id) == 32 && err == nil && hex.EncodeToString(dec) == id // lowercase only
		if got := validID(id); got != want {
			t.Fatalf("validID(%q) = %v, want %v", id, got, want)
		}
	})
}

func FuzzParseForwarded(f *testing.F) {
	for _, s := range []string{
		"", "proto=https;host=example.com", `for=192.0.2.60;proto=http;by=203.0.113.43`,
		`host="example.com:8443";proto=HTTPS`, "proto=https, proto=http", "host=a;host=b", "=;=",
		`host=""`, `host="`, "Proto=HTTP;Host=Example.COM", "host", ";;;", "host=a b;proto=ftp",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		proto, host := parseForwarded(v)
		if proto != strings.ToLower(proto) {
			t.Fatalf("parseForwarded(%q): proto %q is not lowercase", v, proto)
		}
		for _, s := range []string{proto, host} {
			// Only the first element counts, and a value never spans pairs.
			if strings.ContainsAny(s, ",;") {
				t.Fatalf("parseForwarded(%q) = %q, %q: a value spans elements or pairs", v, proto, host)
			}
			if strings.HasPrefix(s, `"`) || strings.HasSuffix(s, `"`) {
				t.Fatalf("parseForwarded(%q) = %q, %q: quotes left on a value", v, proto, host)
			}
		}
		first, _, _ := strings.Cut(v, ",")
		if !strings.Contains(first, "=") && (proto != "" || host != "") {
			t.Fatalf("parseForwarded(%q) = %q, %q from an element without any pair", v, proto, host)
		}
	})
}

// FuzzValidHost: whatever validHost accepts builds an upload URL that
// parses back to the same host, with no path, query or user part smuggled in.
func FuzzValidHost(f *testing.F) {
	for _, s := range []string{
		"example.com", "example.com:8080", "127.0.0.1", "127.0.0.1:1", "[::1]", "[::1]:443", ":::", "",
		"example.com:99999", "example.com:", "a..b", "-a.com", "a b", "[fe80::1%eth0]", "[::1", "x@y",
		"host/path", "host?q", "host#f", "h:1:2", "[::1]x", "UPPER.Example.COM.", "_srv.example",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		if !validHost(h) {
			return
		}
		u, err := url.Parse("http://" + h + "/files/x")
		if err != nil {
			t.Fatalf("validHost(%q) but the URL does not parse: %v", h, err)
		}
		if u.Host != h || u.Path != "/files/x" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			t.Fatalf("validHost(%q) but the URL reads host %q path %q", h, u.Host, u.Path)
		}
	})
}

// FuzzFilterRange: the filtered header never asks for more ranges than the
// cap or than the client asked for, and keeps no zero-length suffix range.
func FuzzFilterRange(f *testing.F) {
	for _, s := range []string{
		"bytes=0-0", "bytes=-0", "bytes=-000", "bytes=0-0,-0", "bytes=0-0,2-2,4-4", "bytes=", "items=0-1",
		"bytes=-5", "bytes=5-", "bytes= -0 , 1-2", strings.Repeat("bytes=0-0,", 3) + "1-1",
		"bytes=" + strings.Repeat("0-0,", 40) + "1-1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		const max = 16
		out, unsat := filterRange(v, max)
		if unsat && out != "" {
			t.Fatalf("filterRange(%q) is unsatisfiable but kept %q", v, out)
		}
		spec, isBytes := strings.CutPrefix(out, "bytes=")
		if !isBytes || out == "" {
			return
		}
		n := strings.Count(spec, ",") + 1
		if in := strings.Count(v, ",") + 1; n > max || n > in {
			t.Fatalf("filterRange(%q) = %q: %d ranges", v, out, n)
		}
		for _, p := range strings.Split(spec, ",") {
			if p := strings.TrimSpace(p); len(p) > 1 && p[0] == '-' && strings.Trim(p[1:], "0") == "" {
				t.Fatalf("filterRange(%q) kept the empty suffix range %q", v, p)
			}
		}
	})
}
