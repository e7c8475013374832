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

// deriveV4Key derives next-auth v4's 32-byte content encryption key from the
// secret, exactly as next-auth/jwt does: HKDF-SHA256, the secret's UTF-8
// bytes as input, an empty salt.
func deriveV4Key(secret string) ([]byte, error) {
	if secret == "" {
		return nil, errors.New("derive session key: empty secret")
	}
	key, err := hkdf.Key(sha256.New, []byte(secret), nil, v4Info, 32)
	if err != nil {
		return nil, fmt.Errorf("derive session key: %w", err)
	}
	return key, nil
}

// JWTResolver resolves next-auth v4 and Auth.js v5 JWT sessions. It is safe
// for concurrent use. The zero value is not usable; call NewJWT.
type JWTResolver struct {
	format Format
	key    []byte            // v4; nil when format is v5
	v5     map[string]v5Keys // per salt (cookie name); nil when format is v4
	// bearerSalts are the v5 cookie names tried, in order, for a bearer token.
	bearerSalts []string
	now         func() time.Time
}

// JWTConfig configures NewJWT.
type JWTConfig struct {
	// Format says which tokens are read: FormatV4, FormatV5 or FormatAuto (both).
	Format Format
	// V4Secret is the next-auth v4 secret (NEXTAUTH_SECRET); required unless Format is v5.
	V4Secret string
	// V5Secrets are the Auth.js secrets in @auth/core's order; required unless
	// Format is v4. A token with a kid may match any of them, one without a kid
	// is tried with the first only.
	V5Secrets []string
	// Secure puts the __Secure- v5 cookie name first for bearer tokens.
	Secure bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// NewJWT returns a resolver for cfg. Every key is derived once, here.
func NewJWT(cfg JWTConfig) (*JWTResolver, error) {
	j := &JWTResolver{format: cfg.Format, now: cfg.Now}
	if j.now == nil {
		j.now = time.Now
	}
	switch cfg.Format {
	case FormatV4, FormatV5, FormatAuto:
	default:
		return nil, fmt.Errorf("new JWT resolver: unknown format %q", cfg.Format)
	}
	if cfg.Format != FormatV5 {
		key, err := deriveV4Key(cfg.V4Secret)
		if err != nil {
			return nil, err
		}
		j.key = key
	}
	if cfg.Format != FormatV4 {
		if len(cfg.V5Secrets) == 0 {
			return nil, errors.New("new JWT resolver: no Auth.js v5 secret")
		}
		j.v5 = map[string]v5Keys{}
		j.bearerSalts = v5CookieNames(cfg.Secure)
		for _, salt := range j.bearerSalts {
			ks, err := deriveV5Keys(cfg.V5Secrets, salt)
			if err != nil {
				return nil, err
			}
			j.v5[salt] = ks
		}
	}
	return j, nil
}

// Resolve decodes and checks the credential's token. A cookie is decoded in
// the format its name belongs to (v5: with the cookie name as HKDF salt). A
// bearer token is decoded as v4 or v5 by format; in auto mode its header
// decides (enc A256GCM without kid: v4 first).
func (j *JWTResolver) Resolve(_ context.Context, c Credential) (Session, error) {
	if c.Source == SourceCookie {
		return j.resolveCookie(c)
	}
	tries, err := j.bearerDecoders(c.Token)
	if err != nil {
		return Session{}, err
	}
	return firstDecoded(tries)
}

// resolveCookie decodes a cookie's token in the format its name belongs to.
func (j *JWTResolver) resolveCookie(c Credential) (Session, error) {
	if isV5Cookie(c.Cookie) {
		ks, ok := j.v5[c.Cookie]
		if !ok {
			return Session{}, fmt.Errorf("v5 cookie %s while reading v4 only: %w", c.Cookie, ErrInvalid)
		}
		return decodeV5(c.Token, ks, j.now())
	}
	if j.key == nil {
		return Session{}, fmt.Errorf("v4 cookie %s while reading v5 only: %w", c.Cookie, ErrInvalid)
	}
	return j.Decode(c.Token)
}

// bearerDecoders lists the decodings to try on a bearer token, in order: v4,
// v5 under each bearer salt, or (in auto mode) both, v4 first when the
// token's header looks like next-auth v4's.
func (j *JWTResolver) bearerDecoders(token string) ([]func() (Session, error), error) {
	v4 := func() (Session, error) { return j.Decode(token) }
	var v5 []func() (Session, error)
	for _, salt := range j.bearerSalts {
		v5 = append(v5, func() (Session, error) { return decodeV5(token, j.v5[salt], j.now()) })
	}
	switch j.format {
	case FormatV4:
		return []func() (Session, error){v4}, nil
	case FormatV5:
		return v5, nil
	}
	h, err := peekHeader(token)
	if err != nil {
		return nil, err
	}
	if h.Enc == string(jose.A256GCM) && h.Kid == nil {
		return append([]func() (Session, error){v4}, v5...), nil
	}
	return v5, nil
}

// firstDecoded returns the first session a decoding yields. A token that
// decrypted but is expired, or one that is not a JWE at all, says so at
// once; when every key fails to decrypt, the first failure is the error.
func firstDecoded(tries []func() (Session, error)) (Session, error) {
	var first error
	for _, try := range tries {
		s, err := try()
		if err == nil {
			return s, nil
		}
		if !errors.Is(err, ErrInvalid) {
			return Session{}, err
		}
		if first == nil {
			first = err
		}
	}
	return Session{}, first
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
	if !exp.After(now.Add(-clockTolerance)) {
		return Session{}, fmt.Errorf("expired at %s: %w", exp.UTC().Format(time.RFC3339), ErrExpired)
	}
	if v, present := claims["nbf"]; present {
		nbf, ok := numericDate(v)
		if !ok {
			return Session{}, fmt.Errorf("nbf not a number: %w", ErrInvalid)
		}
		if nbf.After(now.Add(clockTolerance)) {
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
	key, err := deriveV4Key(secret)
	if err != nil {
		return "", err
	}
	enc, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: jose.DIRECT, Key: key}, nil)
	if err != nil {
		return "", fmt.Errorf("encode session: %w", err)
	}
	return seal(enc, claims, ttl, now)
}

// seal adds iat, exp and a random jti to claims and encrypts them.
func seal(enc jose.Encrypter, claims map[string]any, ttl time.Duration, now time.Time) (string, error) {
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
