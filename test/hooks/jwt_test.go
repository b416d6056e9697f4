package hooks_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tusgate/tusgate/test/e2e"
	"github.com/tusgate/tusgate/test/testenv"
)

// jwks serves one RSA key as a JWK Set and signs tokens with it.
type jwks struct {
	key *rsa.PrivateKey
	url string
}

func newJWKS(t *testing.T) *jwks {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	set := map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig",
		"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
	}}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(srv.Close)
	return &jwks{key: key, url: srv.URL}
}

func (j *jwks) token(t *testing.T, sub string, exp time.Time) string {
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"sub": sub, "exp": exp.Unix(), "iss": "test-issuer"})
	tok.Header["kid"] = "k1"
	s, err := tok.SignedString(j.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// With JWT authentication the token's subject owns what it creates: on
// either replica, only that subject's tokens may touch the upload.
func TestJWTOwnerOnlyAcrossReplicas(t *testing.T) {
	keys := newJWKS(t)
	rs := testenv.StartRedis(t)
	args := []string{"--store", "file://" + filepath.Join(t.TempDir(), "data"), "--state", rs.URL,
		"--jwt-jwks-url", keys.url, "--jwt-issuer", "test-issuer"}
	a, b := e2e.Start(t, args...), e2e.Start(t, args...)
	bearer := func(tok string) http.Header {
		return http.Header{"Authorization": {"Bearer " + tok}, "Tus-Resumable": {"1.0.0"}}
	}
	alice := bearer(keys.token(t, "alice", time.Now().Add(time.Hour)))
	bob := bearer(keys.token(t, "bob", time.Now().Add(time.Hour)))
	expired := bearer(keys.token(t, "alice", time.Now().Add(-time.Hour)))

	// Creation needs a valid token.
	for name, hdr := range map[string]http.Header{"none": {"Tus-Resumable": {"1.0.0"}}, "expired": expired, "garbage": bearer("x.y.z")} {
		h := hdr.Clone()
		h.Set("Upload-Length", "4")
		res, _ := do(t, http.MethodPost, a.URL, h, nil)
		if res.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("POST with %s token → %d (WWW-Authenticate %q), want 401", name, res.StatusCode, res.Header.Get("WWW-Authenticate"))
		}
	}
	h := alice.Clone()
	h.Set("Upload-Length", "4")
	res, body := do(t, http.MethodPost, a.URL, h, nil)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("alice's POST → %d %s", res.StatusCode, body)
	}
	url := res.Header.Get("Location")
	onB := strings.Replace(url, a.Addr, b.Addr, 1)
	patch := func(hdr http.Header) http.Header {
		c := hdr.Clone()
		c.Set("Upload-Offset", "0")
		c.Set("Content-Type", "application/offset+octet-stream")
		return c
	}
	for _, target := range []string{url, onB} {
		for _, m := range []string{http.MethodHead, http.MethodPatch, http.MethodGet, http.MethodDelete} {
			hdr := bob
			if m == http.MethodPatch {
				hdr = patch(bob)
			}
			if res, text := do(t, m, target, hdr, strings.NewReader(map[bool]string{true: "evil"}[m == http.MethodPatch])); res.StatusCode != http.StatusForbidden {
				t.Errorf("bob's %s %s → %d %q, want 403", m, target, res.StatusCode, text)
			}
			hdr = expired
			if m == http.MethodPatch {
				hdr = patch(expired)
			}
			if res, _ := do(t, m, target, hdr, nil); res.StatusCode != http.StatusUnauthorized {
				t.Errorf("expired token %s %s → %d, want 401", m, target, res.StatusCode)
			}
		}
	}
	if res, text := do(t, http.MethodPatch, onB, patch(alice), strings.NewReader("data")); res.StatusCode != http.StatusNoContent {
		t.Fatalf("alice's PATCH on the other replica → %d %q", res.StatusCode, text)
	}
	if res, text := do(t, http.MethodGet, url, alice, nil); res.StatusCode != http.StatusOK || text != "data" {
		t.Fatalf("alice's GET → %d %q", res.StatusCode, text)
	}
	// A final upload may only join the creator's own partials.
	ph := alice.Clone()
	ph.Set("Upload-Length", "2")
	ph.Set("Upload-Concat", "partial")
	res, _ = do(t, http.MethodPost, a.URL, ph, nil)
	partial := res.Header.Get("Location")
	fin := bob.Clone()
	fin.Set("Upload-Concat", "final;/files/"+idOf(partial))
	if res, text := do(t, http.MethodPost, b.URL, fin, nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("bob's final over alice's partial → %d %q, want 403", res.StatusCode, text)
	}
}
