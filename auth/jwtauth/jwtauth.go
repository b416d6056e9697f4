// Package jwtauth verifies bearer JWTs for the gateway: a token's subject
// becomes the owner of the uploads it creates, and only tokens of that
// subject may touch them afterwards.
package jwtauth

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
)

// ErrUnauthenticated wraps every reason a request has no valid token.
var ErrUnauthenticated = errors.New("no valid bearer token")

// Options configure a Verifier. Exactly one of JWKSURL and KeyFile is set.
type Options struct {
	// JWKSURL is fetched, and refreshed in the background, for the keys.
	JWKSURL string
	// KeyFile holds a JWK Set (JSON) or one PEM public key (RSA, ECDSA,
	// Ed25519).
	KeyFile string
	// Issuer and Audience, when set, must match the token's iss and aud.
	Issuer   string
	Audience string
	// Leeway tolerates clock skew on exp and nbf. Default 30s.
	Leeway time.Duration
}

// Verifier checks tokens.
type Verifier struct {
	keys   jwt.Keyfunc
	parser *jwt.Parser
}

// maxTokenLen bounds what is parsed; real tokens are far shorter.
const maxTokenLen = 8 << 10

// New loads the keys. With JWKSURL the first fetch must succeed before
// ctx ends; refreshes follow until ctx ends.
func New(ctx context.Context, o Options) (*Verifier, error) {
	var keys jwt.Keyfunc
	switch {
	case o.JWKSURL != "" && o.KeyFile != "":
		return nil, errors.New("jwtauth: give a JWKS URL or a key file, not both")
	case o.JWKSURL != "":
		k, err := keyfunc.NewDefaultCtx(ctx, []string{o.JWKSURL})
		if err != nil {
			return nil, fmt.Errorf("jwtauth: JWKS %s: %w", o.JWKSURL, err)
		}
		keys = k.Keyfunc
	case o.KeyFile != "":
		k, err := fromFile(o.KeyFile)
		if err != nil {
			return nil, err
		}
		keys = k
	default:
		return nil, errors.New("jwtauth: a JWKS URL or a key file is required")
	}
	leeway := o.Leeway
	if leeway <= 0 {
		leeway = 30 * time.Second
	}
	opts := []jwt.ParserOption{jwt.WithLeeway(leeway), jwt.WithExpirationRequired(),
		jwt.WithValidMethods([]string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"})}
	if o.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(o.Issuer))
	}
	if o.Audience != "" {
		opts = append(opts, jwt.WithAudience(o.Audience))
	}
	return &Verifier{keys: keys, parser: jwt.NewParser(opts...)}, nil
}

func fromFile(path string) (jwt.Keyfunc, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("jwtauth: key file: %w", err)
	}
	if json.Valid(raw) {
		k, err := keyfunc.NewJWKSetJSON(raw)
		if err != nil {
			return nil, fmt.Errorf("jwtauth: key file %s: %w", path, err)
		}
		return k.Keyfunc, nil
	}
	var key crypto.PublicKey
	if key, err = jwt.ParseRSAPublicKeyFromPEM(raw); err != nil {
		if key, err = jwt.ParseECPublicKeyFromPEM(raw); err != nil {
			if key, err = jwt.ParseEdPublicKeyFromPEM(raw); err != nil {
				return nil, fmt.Errorf("jwtauth: key file %s is neither a JWK Set nor a PEM public key", path)
			}
		}
	}
	return func(*jwt.Token) (any, error) { return key, nil }, nil
}

// Subject returns the subject of the request's bearer token.
func (v *Verifier) Subject(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return "", fmt.Errorf("%w: the Authorization header must be \"Bearer <token>\"", ErrUnauthenticated)
	}
	if len(tok) > maxTokenLen {
		return "", fmt.Errorf("%w: the token is longer than %d bytes", ErrUnauthenticated, maxTokenLen)
	}
	parsed, err := v.parser.Parse(tok, v.keys)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrUnauthenticated, err)
	}
	sub, err := parsed.Claims.GetSubject()
	if err != nil || sub == "" {
		return "", fmt.Errorf("%w: the token has no subject", ErrUnauthenticated)
	}
	if len(sub) > 256 {
		return "", fmt.Errorf("%w: the token's subject is longer than 256 bytes", ErrUnauthenticated)
	}
	return sub, nil
}
