package session_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/routeapi/routeapi/internal/session"
	"github.com/routeapi/routeapi/internal/testkit/nextauthmint"
)

// secret is not ASCII on purpose: next-auth uses the secret's UTF-8 bytes as
// the HKDF input, exactly as written.
const secret = "s3cret-Ωmega-with-ünïcode"

var userClaims = map[string]any{
	"sub":     "user_42",
	"email":   "ada@example.com",
	"name":    "Ada Lovelace",
	"picture": "https://example.com/ada.png",
}

// TestResolveNextAuthVectors decodes tokens and cookies minted by the real
// next-auth 4.24.15 and checks that the Go side agrees with next-auth's own
// decode, both on what it accepts and on what the session holds.
func TestResolveNextAuthVectors(t *testing.T) {
	type presented int
	const (
		asCookies presented = iota
		asBearer
	)
	tests := []struct {
		c           nextauthmint.Case
		via         presented
		wantCookies int   // cookies next-auth sets for the token
		wantErr     error // from Resolve; nil means accepted
	}{
		{c: nextauthmint.Case{Name: "plain cookie", MaxAge: 3600}, wantCookies: 1},
		{c: nextauthmint.Case{Name: "__Secure- cookie", MaxAge: 3600, SecureCookie: true}, wantCookies: 1},
		{c: nextauthmint.Case{Name: "chunked cookie", MaxAge: 3600, PadBytes: 8000}, wantCookies: 3},
		{c: nextauthmint.Case{Name: "chunked __Secure- cookie", MaxAge: 3600, PadBytes: 8000, SecureCookie: true}, wantCookies: 3},
		{c: nextauthmint.Case{Name: "default maxAge (30 days)"}, wantCookies: 1},
		{c: nextauthmint.Case{Name: "null name, extra claims", MaxAge: 3600,
			Claims: map[string]any{"sub": "u7", "email": "e@x.io", "name": nil, "role": "admin", "id": 42}}, wantCookies: 1},
		{c: nextauthmint.Case{Name: "expired 5 s ago (within tolerance)", MaxAge: -5}, wantCookies: 1},
		{c: nextauthmint.Case{Name: "expired 60 s ago", MaxAge: -60}, wantCookies: 1, wantErr: session.ErrExpired},
		{c: nextauthmint.Case{Name: "wrong secret", MaxAge: 3600, Secret: "another-secret", DecodeSecret: secret}, wantCookies: 1, wantErr: session.ErrInvalid},
		{c: nextauthmint.Case{Name: "alg none JWT", MaxAge: 3600, Kind: nextauthmint.KindAlgNoneJWT}, wantCookies: 1, wantErr: session.ErrMalformed},
		{c: nextauthmint.Case{Name: "JWE with alg none", MaxAge: 3600, Kind: nextauthmint.KindJWEAlgNone}, wantCookies: 1, wantErr: session.ErrMalformed},
		{c: nextauthmint.Case{Name: "bearer token", MaxAge: 3600}, via: asBearer, wantCookies: 1},
	}
	cases := make([]nextauthmint.Case, len(tests))
	for i, tc := range tests {
		c := tc.c
		if c.Secret == "" {
			c.Secret = secret
		}
		if c.Claims == nil {
			c.Claims = userClaims
		}
		cases[i] = c
	}
	// Minted right before use: the "5 s ago" token must be decoded well
	// within the 15 s tolerance.
	vectors := nextauthmint.Mint(t, cases...)
	resolver, err := session.NewJWT(session.JWTConfig{Format: session.FormatV4, V4Secret: secret})
	if err != nil {
		t.Fatal(err)
	}

	for i, tc := range tests {
		v := vectors[i]
		t.Run(tc.c.Name, func(t *testing.T) {
			// next-auth itself must agree with the expectation, or the vector is wrong.
			if libOK := v.DecodeError == ""; libOK != (tc.wantErr == nil) {
				t.Fatalf("next-auth's decode: error %q; the test expects accepted=%v", v.DecodeError, tc.wantErr == nil)
			}
			if len(v.Cookies) != tc.wantCookies {
				t.Fatalf("next-auth set %d cookies, want %d", len(v.Cookies), tc.wantCookies)
			}

			r := httptest.NewRequest(http.MethodPost, "/api/route", nil)
			wantSource, wantCookie := session.SourceCookie, session.CookieName
			if tc.c.SecureCookie {
				wantCookie = session.SecureCookieName
			}
			switch tc.via {
			case asCookies:
				for _, c := range v.Cookies {
					r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
				}
			case asBearer:
				r.Header.Set("Authorization", "Bearer "+v.Token)
				wantSource, wantCookie = session.SourceBearer, ""
			}
			cred, err := session.Extract(r, session.CookieNames(tc.c.SecureCookie))
			if err != nil {
				t.Fatalf("Extract: %v", err)
			}
			if cred.Token != v.Token || cred.Source != wantSource || cred.Cookie != wantCookie {
				t.Fatalf("Extract = {source %q, cookie %q, token of %d chars}; want {%q, %q, the minted token of %d chars}",
					cred.Source, cred.Cookie, len(cred.Token), wantSource, wantCookie, len(v.Token))
			}

			s, err := resolver.Resolve(context.Background(), cred)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Resolve: %v; want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve: %v (next-auth decoded it to %v)", err, v.Claims)
			}
			assertMatchesClaims(t, s, v.Claims)
		})
	}
}

// assertMatchesClaims checks a Session against the claims next-auth's decode returned.
func assertMatchesClaims(t *testing.T, s session.Session, claims map[string]any) {
	t.Helper()
	str := func(k string) string { v, _ := claims[k].(string); return v }
	if s.Subject != str("sub") || s.Email != str("email") || s.Name != str("name") || s.Picture != str("picture") {
		t.Errorf("session {sub %q, email %q, name %q, picture %q}; next-auth decoded %v",
			s.Subject, s.Email, s.Name, s.Picture, claims)
	}
	exp, err := claims["exp"].(json.Number).Int64()
	if err != nil {
		t.Fatalf("next-auth's exp %v: %v", claims["exp"], err)
	}
	if !s.ExpiresAt.Equal(time.Unix(exp, 0)) {
		t.Errorf("ExpiresAt = %v, want exp %d (%v)", s.ExpiresAt, exp, time.Unix(exp, 0))
	}
	if !reflect.DeepEqual(s.Claims, claims) {
		t.Errorf("Claims = %v\nnext-auth decoded %v", s.Claims, claims)
	}
}

// TestResolveNextAuthClockTolerance checks the 15 s tolerance on exp against
// the exp of a real token, with an injected clock.
func TestResolveNextAuthClockTolerance(t *testing.T) {
	v := nextauthmint.Mint(t, nextauthmint.Case{Name: "tolerance", Secret: secret, Claims: userClaims, MaxAge: 600})[0]
	expN, err := v.Claims["exp"].(json.Number).Int64()
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Unix(expN, 0)
	for _, tc := range []struct {
		now     time.Time
		wantErr error
	}{
		{exp.Add(-time.Hour), nil},
		{exp, nil},
		{exp.Add(14 * time.Second), nil},
		{exp.Add(14*time.Second + 999*time.Millisecond), nil},
		{exp.Add(15 * time.Second), session.ErrExpired},
		{exp.Add(time.Hour), session.ErrExpired},
	} {
		r, err := session.NewJWT(session.JWTConfig{Format: session.FormatV4, V4Secret: secret, Now: func() time.Time { return tc.now }})
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.Decode(v.Token)
		if (tc.wantErr == nil && err != nil) || !errors.Is(err, tc.wantErr) {
			t.Errorf("Decode at exp%+v: %v, want %v", tc.now.Sub(exp), err, tc.wantErr)
		}
	}
}

// TestEncodeAcceptedByNextAuth checks that tokens minted by session.Encode
// are read by next-auth's own decode exactly as Go reads them.
func TestEncodeAcceptedByNextAuth(t *testing.T) {
	now := time.Now()
	claims := map[string]any{"sub": "user_42", "email": "ada@example.com", "name": "Ada", "role": "admin"}
	valid, err := session.Encode(secret, claims, time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	expired, err := session.Encode(secret, claims, -time.Minute, now)
	if err != nil {
		t.Fatal(err)
	}
	big, err := session.Encode(secret, map[string]any{"sub": "u1", "pad": strings.Repeat("p", 8000)}, time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	v := nextauthmint.Mint(t,
		nextauthmint.Case{Name: "valid", Kind: nextauthmint.KindDecode, Secret: secret, Token: valid},
		nextauthmint.Case{Name: "other secret", Kind: nextauthmint.KindDecode, Secret: "another-secret", Token: valid},
		nextauthmint.Case{Name: "expired", Kind: nextauthmint.KindDecode, Secret: secret, Token: expired},
		nextauthmint.Case{Name: "big", Kind: nextauthmint.KindDecode, Secret: secret, Token: big},
	)

	if v[0].DecodeError != "" {
		t.Fatalf("next-auth refused a Go token: %s", v[0].DecodeError)
	}
	got := v[0].Claims
	for k, want := range claims {
		if got[k] != want {
			t.Errorf("next-auth decoded %s = %v, want %v", k, got[k], want)
		}
	}
	if got["exp"] != json.Number(jsonInt(now.Add(time.Hour).Unix())) || got["iat"] != json.Number(jsonInt(now.Unix())) {
		t.Errorf("next-auth decoded exp %v, iat %v; want %d, %d", got["exp"], got["iat"], now.Add(time.Hour).Unix(), now.Unix())
	}
	if jti, _ := got["jti"].(string); jti == "" {
		t.Errorf("next-auth decoded jti %v, want a non-empty string", got["jti"])
	}
	r, err := session.NewJWT(session.JWTConfig{Format: session.FormatV4, V4Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	s, err := r.Decode(valid)
	if err != nil {
		t.Fatal(err)
	}
	assertMatchesClaims(t, s, got)

	if v[1].DecodeError == "" {
		t.Error("next-auth decoded a Go token with another secret")
	}
	if !strings.Contains(v[2].DecodeError, "ERR_JWT_EXPIRED") {
		t.Errorf("next-auth on an expired Go token: %q, want ERR_JWT_EXPIRED", v[2].DecodeError)
	}

	// A big Go token, chunked the way next-auth chunks it, reads back through Extract.
	if v[3].DecodeError != "" || len(v[3].Cookies) != 3 {
		t.Fatalf("big Go token: next-auth error %q, %d cookies; want none and 3", v[3].DecodeError, len(v[3].Cookies))
	}
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Cookie", v[3].CookieHeader)
	cred, err := session.Extract(req, session.CookieNames(false))
	if err != nil {
		t.Fatal(err)
	}
	s, err = r.Resolve(context.Background(), cred)
	if err != nil {
		t.Fatal(err)
	}
	assertMatchesClaims(t, s, v[3].Claims)
}

func jsonInt(n int64) string { return strconv.FormatInt(n, 10) }

// seal encrypts payload as a compact JWE with alg dir, the way next-auth
// does, so tests can build claims next-auth's encode cannot produce.
func seal(t *testing.T, key []byte, enc jose.ContentEncryption, payload string) string {
	t.Helper()
	e, err := jose.NewEncrypter(enc, jose.Recipient{Algorithm: jose.DIRECT, Key: key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := e.Encrypt([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestDecodeClaims(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	key, err := session.DeriveV4Key(secret)
	if err != nil {
		t.Fatal(err)
	}
	r, err := session.NewJWT(session.JWTConfig{Format: session.FormatV4, V4Secret: secret, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	at := func(d time.Duration) string { return jsonInt(now.Add(d).Unix()) }
	tests := []struct {
		name    string
		payload string
		wantErr error
		check   func(t *testing.T, s session.Session)
	}{
		{name: "minimal", payload: `{"exp":` + at(time.Hour) + `}`},
		{name: "missing exp", payload: `{"sub":"u1"}`, wantErr: session.ErrInvalid},
		{name: "exp null", payload: `{"sub":"u1","exp":null}`, wantErr: session.ErrInvalid},
		{name: "exp as string", payload: `{"sub":"u1","exp":"` + at(time.Hour) + `"}`, wantErr: session.ErrInvalid},
		{name: "exp negative", payload: `{"exp":-1}`, wantErr: session.ErrInvalid},
		{name: "exp absurdly far", payload: `{"exp":1e300}`, wantErr: session.ErrInvalid},
		{name: "exp 15 s ago", payload: `{"exp":` + at(-15*time.Second) + `}`, wantErr: session.ErrExpired},
		{name: "exp 14 s ago", payload: `{"exp":` + at(-14*time.Second) + `}`},
		{name: "fractional exp", payload: `{"exp":` + at(time.Hour) + `.5}`, check: func(t *testing.T, s session.Session) {
			if want := now.Add(time.Hour + 500*time.Millisecond); !s.ExpiresAt.Equal(want) {
				t.Errorf("ExpiresAt = %v, want %v", s.ExpiresAt, want)
			}
		}},
		{name: "nbf 16 s ahead", payload: `{"exp":` + at(time.Hour) + `,"nbf":` + at(16*time.Second) + `}`, wantErr: session.ErrInvalid},
		{name: "nbf 15 s ahead", payload: `{"exp":` + at(time.Hour) + `,"nbf":` + at(15*time.Second) + `}`},
		{name: "nbf in the past", payload: `{"exp":` + at(time.Hour) + `,"nbf":` + at(-time.Hour) + `}`},
		{name: "nbf not a number", payload: `{"exp":` + at(time.Hour) + `,"nbf":"soon"}`, wantErr: session.ErrInvalid},
		{name: "claims null", payload: `null`, wantErr: session.ErrInvalid},
		{name: "claims an array", payload: `[1,2]`, wantErr: session.ErrInvalid},
		{name: "claims not JSON", payload: `not json`, wantErr: session.ErrInvalid},
		{name: "non-string profile claims", payload: `{"exp":` + at(time.Hour) + `,"sub":42,"email":null,"name":["x"],"picture":{}}`,
			check: func(t *testing.T, s session.Session) {
				if s.Subject != "" || s.Email != "" || s.Name != "" || s.Picture != "" {
					t.Errorf("session %+v: non-string claims must read as empty", s)
				}
				if s.Claims["sub"] != json.Number("42") {
					t.Errorf("Claims[sub] = %#v, want json.Number 42", s.Claims["sub"])
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := r.Decode(seal(t, key, jose.A256GCM, tc.payload))
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Decode(%s) = %v, want %v", tc.payload, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode(%s): %v", tc.payload, err)
			}
			if tc.check != nil {
				tc.check(t, s)
			}
		})
	}
}

func TestEncodeWithInjectedClock(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	r, err := session.NewJWT(session.JWTConfig{Format: session.FormatV4, V4Secret: secret, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ttl     time.Duration
		wantErr error
	}{
		{time.Hour, nil},
		{-5 * time.Second, nil},
		{-15 * time.Second, session.ErrExpired},
		{-time.Minute, session.ErrExpired},
	} {
		tok, err := session.Encode(secret, map[string]any{"sub": "u1", "exp": 1, "iat": 2}, tc.ttl, now)
		if err != nil {
			t.Fatal(err)
		}
		s, err := r.Decode(tok)
		if tc.wantErr != nil {
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("ttl %v: %v, want %v", tc.ttl, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("ttl %v: %v", tc.ttl, err)
		}
		// Encode's own exp/iat win over those in claims.
		if !s.ExpiresAt.Equal(now.Add(tc.ttl)) || s.Subject != "u1" || s.Claims["iat"] != json.Number(jsonInt(now.Unix())) {
			t.Errorf("ttl %v: session %+v", tc.ttl, s)
		}
	}
}

func TestDecodeRejectsOtherTokenShapes(t *testing.T) {
	key, err := session.DeriveV4Key(secret)
	if err != nil {
		t.Fatal(err)
	}
	r, err := session.NewJWT(session.JWTConfig{Format: session.FormatV4, V4Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	exp := jsonInt(time.Now().Add(time.Hour).Unix())
	good := seal(t, key, jose.A256GCM, `{"sub":"u1","exp":`+exp+`}`)
	if _, err := r.Decode(good); err != nil {
		t.Fatalf("the untampered token must decode: %v", err)
	}

	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign([]byte(`{"sub":"u1","exp":` + exp + `}`))
	if err != nil {
		t.Fatal(err)
	}
	jwsCompact, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	flip := func(s string) string { // changes one base64url character
		b := []byte(s)
		if b[0] == 'A' {
			b[0] = 'B'
		} else {
			b[0] = 'A'
		}
		return string(b)
	}

	for _, tc := range []struct {
		name    string
		token   string
		wantErr error
	}{
		{"empty", "", session.ErrMalformed},
		{"garbage", "not-a-token", session.ErrMalformed},
		{"HS256 JWS signed with the key", jwsCompact, session.ErrMalformed},
		{"Auth.js v5 enc A256CBC-HS512", seal(t, make([]byte, 64), jose.A256CBC_HS512, `{"exp":`+exp+`}`), session.ErrMalformed},
		{"enc A128GCM", seal(t, key[:16], jose.A128GCM, `{"exp":`+exp+`}`), session.ErrMalformed},
		{"tampered ciphertext", strings.Join([]string{parts[0], parts[1], parts[2], flip(parts[3]), parts[4]}, "."), session.ErrInvalid},
		{"tampered tag", strings.Join([]string{parts[0], parts[1], parts[2], parts[3], flip(parts[4])}, "."), session.ErrInvalid},
		{"too large", good + strings.Repeat("A", 256<<10), session.ErrMalformed},
	} {
		if _, err := r.Decode(tc.token); !errors.Is(err, tc.wantErr) {
			t.Errorf("%s: Decode = %v, want %v", tc.name, err, tc.wantErr)
		}
	}
}

func TestEmptySecret(t *testing.T) {
	if _, err := session.NewJWT(session.JWTConfig{Format: session.FormatV4, V4Secret: ""}); err == nil {
		t.Error("NewJWT with an empty secret: want an error")
	}
	if _, err := session.Encode("", map[string]any{"sub": "u1"}, time.Hour, time.Now()); err == nil {
		t.Error("Encode with an empty secret: want an error")
	}
	a, err := session.DeriveV4Key("a")
	if err != nil || len(a) != 32 {
		t.Fatalf("DeriveV4Key: %d bytes, %v", len(a), err)
	}
	if b, _ := session.DeriveV4Key("b"); reflect.DeepEqual(a, b) {
		t.Error("different secrets derived the same key")
	}
}
