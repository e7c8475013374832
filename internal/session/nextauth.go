package session

import (
	"bytes"
	"context"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// v4Info is the HKDF info next-auth v4 uses for the session key (no salt).
const v4Info = "NextAuth.js Generated Encryption Key"

// DeriveV4Key derives next-auth v4's 32-byte content encryption key from the
// secret, exactly as next-auth/jwt does: HKDF-SHA256, the secret's UTF-8
// bytes as input, an empty salt.
func DeriveV4Key(secret string) ([]byte, error) {
	if secret == "" {
		return nil, errors.New("derive session key: empty secret")
	}
	key, err := hkdf.Key(sha256.New, []byte(secret), nil, v4Info, 32)
	if err != nil {
		return nil, fmt.Errorf("derive session key: %w", err)
	}
	return key, nil
}

// JWTResolver resolves next-auth v4 JWT sessions. It is safe for concurrent
// use. The zero value is not usable; call NewJWTResolver.
type JWTResolver struct {
	key []byte
	now func() time.Time
}

// NewJWTResolver returns a resolver for tokens encrypted with secret. The key
// is derived once, here. now may be nil (time.Now).
func NewJWTResolver(secret string, now func() time.Time) (*JWTResolver, error) {
	key, err := DeriveV4Key(secret)
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	return &JWTResolver{key: key, now: now}, nil
}

// Resolve decodes and checks the credential's token.
func (j *JWTResolver) Resolve(_ context.Context, c Credential) (Session, error) {
	return j.Decode(c.Token)
}

// Decode decrypts a next-auth v4 session token and checks its times. Errors
// wrap ErrMalformed, ErrInvalid or ErrExpired.
func (j *JWTResolver) Decode(token string) (Session, error) {
	if len(token) > maxTokenBytes {
		return Session{}, fmt.Errorf("token too large: %w", ErrMalformed)
	}
	// Only alg "dir" with enc "A256GCM": this alone refuses alg "none", JWS
	// tokens and key-wrapping algorithms.
	obj, err := jose.ParseEncryptedCompact(token, []jose.KeyAlgorithm{jose.DIRECT}, []jose.ContentEncryption{jose.A256GCM})
	if err != nil {
		return Session{}, fmt.Errorf("parse JWE: %w: %w", ErrMalformed, err)
	}
	payload, err := obj.Decrypt(j.key)
	if err != nil {
		return Session{}, fmt.Errorf("decrypt JWE: %w", ErrInvalid)
	}
	return parseClaims(payload, j.now())
}

// parseClaims checks exp (required) and nbf with the clock tolerance and
// fills a Session.
func parseClaims(payload []byte, now time.Time) (Session, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var claims map[string]any
	if err := dec.Decode(&claims); err != nil || claims == nil || dec.More() {
		return Session{}, fmt.Errorf("claims are not a JSON object: %w", ErrInvalid)
	}
	exp, ok := numericDate(claims["exp"])
	if !ok {
		return Session{}, fmt.Errorf("exp missing or not a number: %w", ErrInvalid)
	}
	// jose: expired when exp <= now - tolerance.
	if !exp.After(now.Add(-ClockTolerance)) {
		return Session{}, fmt.Errorf("expired at %s: %w", exp.UTC().Format(time.RFC3339), ErrExpired)
	}
	if v, present := claims["nbf"]; present {
		nbf, ok := numericDate(v)
		if !ok {
			return Session{}, fmt.Errorf("nbf not a number: %w", ErrInvalid)
		}
		if nbf.After(now.Add(ClockTolerance)) {
			return Session{}, fmt.Errorf("not valid before %s: %w", nbf.UTC().Format(time.RFC3339), ErrInvalid)
		}
	}
	return Session{
		Subject:   stringClaim(claims, "sub"),
		Email:     stringClaim(claims, "email"),
		Name:      stringClaim(claims, "name"),
		Picture:   stringClaim(claims, "picture"),
		ExpiresAt: exp,
		Claims:    claims,
	}, nil
}

func numericDate(v any) (time.Time, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, false
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e11 {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true
}

// stringClaim returns a string claim, or "" when it is absent, null or not a string.
func stringClaim(claims map[string]any, name string) string {
	s, _ := claims[name].(string)
	return s
}

// Encode mints a next-auth v4 session token for claims, valid for ttl, the
// way next-auth/jwt's encode does (iat, exp and a random jti are added).
// next-auth and routeapi both accept it. It is meant for development and
// tests: production tokens come from the Next.js app.
func Encode(secret string, claims map[string]any, ttl time.Duration, now time.Time) (string, error) {
	key, err := DeriveV4Key(secret)
	if err != nil {
		return "", err
	}
	enc, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: jose.DIRECT, Key: key}, nil)
	if err != nil {
		return "", fmt.Errorf("encode session: %w", err)
	}
	all := make(map[string]any, len(claims)+3)
	for k, v := range claims {
		all[k] = v
	}
	all["iat"] = now.Unix()
	all["exp"] = now.Add(ttl).Unix()
	all["jti"] = rand.Text()
	payload, err := json.Marshal(all)
	if err != nil {
		return "", fmt.Errorf("encode session claims: %w", err)
	}
	obj, err := enc.Encrypt(payload)
	if err != nil {
		return "", fmt.Errorf("encode session: %w", err)
	}
	return obj.CompactSerialize()
}
