package session

import (
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Cookie names Auth.js v5 (@auth/core) uses for the session.
const (
	V5CookieName       = "authjs.session-token"
	V5SecureCookieName = "__Secure-" + V5CookieName
)

// isV5Cookie reports whether name is one of Auth.js v5's session cookie names.
func isV5Cookie(name string) bool { return name == V5CookieName || name == V5SecureCookieName }

// v5CookieNames are Auth.js v5's session cookie names, the expected one
// first: the __Secure- name when secure is true (@auth/core's
// useSecureCookies), as CookieNames orders the v4 names.
func v5CookieNames(secure bool) []string {
	if secure {
		return []string{V5SecureCookieName, V5CookieName}
	}
	return []string{V5CookieName, V5SecureCookieName}
}

// v5Key is one derived Auth.js key: for one secret, one salt (cookie name)
// and one enc, with the thumbprint @auth/core puts in the token's kid.
type v5Key struct {
	key []byte
	kid string
}

// v5Keys holds, per secret in order, the A256CBC-HS512 and A256GCM keys for one salt.
type v5Keys struct {
	cbc []v5Key
	gcm []v5Key
}

// DeriveV5Key derives the Auth.js v5 content encryption key exactly as
// @auth/core's jwt does: HKDF-SHA256 with the secret's UTF-8 bytes, the
// cookie name as salt and "Auth.js Generated Encryption Key (<salt>)" as info;
// 64 bytes for A256CBC-HS512, 32 for A256GCM.
func DeriveV5Key(secret, salt string, enc jose.ContentEncryption) ([]byte, error) {
	if secret == "" {
		return nil, errors.New("derive v5 session key: empty secret")
	}
	n := 64
	if enc == jose.A256GCM {
		n = 32
	}
	key, err := hkdf.Key(sha256.New, []byte(secret), []byte(salt), "Auth.js Generated Encryption Key ("+salt+")", n)
	if err != nil {
		return nil, fmt.Errorf("derive v5 session key: %w", err)
	}
	return key, nil
}

// Thumbprint is the RFC 7638 JWK thumbprint of a symmetric key, as @auth/core
// computes the kid: base64url(SHA-512 or SHA-256 (by key length, 64 or 32
// bytes) of {"k":"<base64url key>","kty":"oct"}).
func Thumbprint(key []byte) string {
	input := `{"k":"` + base64.RawURLEncoding.EncodeToString(key) + `","kty":"oct"}`
	newHash := sha512.New
	if len(key) == 32 {
		newHash = sha256.New
	}
	h := newHash()
	h.Write([]byte(input))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

func deriveV5Keys(secrets []string, salt string) (v5Keys, error) {
	var ks v5Keys
	for _, s := range secrets {
		cbc, err := DeriveV5Key(s, salt, jose.A256CBC_HS512)
		if err != nil {
			return v5Keys{}, err
		}
		gcm, err := DeriveV5Key(s, salt, jose.A256GCM)
		if err != nil {
			return v5Keys{}, err
		}
		ks.cbc = append(ks.cbc, v5Key{cbc, Thumbprint(cbc)})
		ks.gcm = append(ks.gcm, v5Key{gcm, Thumbprint(gcm)})
	}
	return ks, nil
}

// jweHeader is the part of a compact JWE's protected header routeapi looks at
// before decrypting.
type jweHeader struct {
	Alg string  `json:"alg"`
	Enc string  `json:"enc"`
	Kid *string `json:"kid"`
}

// peekHeader decodes a compact JWE's protected header without trusting it.
func peekHeader(token string) (jweHeader, error) {
	first, _, ok := strings.Cut(token, ".")
	if !ok {
		return jweHeader{}, fmt.Errorf("not a compact JWE: %w", ErrMalformed)
	}
	raw, err := base64.RawURLEncoding.DecodeString(first)
	if err != nil {
		return jweHeader{}, fmt.Errorf("protected header: %w", ErrMalformed)
	}
	var h jweHeader
	if err := json.Unmarshal(raw, &h); err != nil {
		return jweHeader{}, fmt.Errorf("protected header: %w", ErrMalformed)
	}
	return h, nil
}

// decodeV5 decrypts an Auth.js v5 token with keys derived for the salt the
// token was read under. Like @auth/core's decode: alg "dir" only, enc
// A256CBC-HS512 or A256GCM; a token with a kid uses the secret whose key
// thumbprint equals it, a token without one tries only the first secret.
func decodeV5(token string, ks v5Keys, now time.Time) (Session, error) {
	if len(token) > maxTokenBytes {
		return Session{}, fmt.Errorf("token too large: %w", ErrMalformed)
	}
	obj, err := jose.ParseEncryptedCompact(token, []jose.KeyAlgorithm{jose.DIRECT},
		[]jose.ContentEncryption{jose.A256CBC_HS512, jose.A256GCM})
	if err != nil {
		return Session{}, fmt.Errorf("parse JWE: %w: %w", ErrMalformed, err)
	}
	h, err := peekHeader(token)
	if err != nil {
		return Session{}, err
	}
	keys := ks.cbc
	if h.Enc == string(jose.A256GCM) {
		keys = ks.gcm
	}
	if len(keys) == 0 {
		return Session{}, fmt.Errorf("no v5 secret configured: %w", ErrInvalid)
	}
	key := keys[0].key
	if h.Kid != nil {
		key = nil
		for _, k := range keys {
			if subtle.ConstantTimeCompare([]byte(k.kid), []byte(*h.Kid)) == 1 {
				key = k.key
				break
			}
		}
		if key == nil {
			return Session{}, fmt.Errorf("no secret matches the token's kid: %w", ErrInvalid)
		}
	}
	payload, err := obj.Decrypt(key)
	if err != nil {
		return Session{}, fmt.Errorf("decrypt JWE: %w", ErrInvalid)
	}
	return parseClaims(payload, now)
}

// EncodeV5 mints an Auth.js v5 session token for the cookie named salt, the
// way @auth/core's encode does (A256CBC-HS512, kid = key thumbprint, iat,
// exp and a random jti). It is meant for development and tests.
func EncodeV5(secret, salt string, claims map[string]any, ttl time.Duration, now time.Time) (string, error) {
	key, err := DeriveV5Key(secret, salt, jose.A256CBC_HS512)
	if err != nil {
		return "", err
	}
	opts := (&jose.EncrypterOptions{}).WithHeader("kid", Thumbprint(key))
	enc, err := jose.NewEncrypter(jose.A256CBC_HS512, jose.Recipient{Algorithm: jose.DIRECT, Key: key}, opts)
	if err != nil {
		return "", fmt.Errorf("encode v5 session: %w", err)
	}
	return seal(enc, claims, ttl, now)
}
