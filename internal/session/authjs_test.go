package session_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/session"
	"github.com/routeapi/routeapi/internal/testkit/nextauthmint"
)

func TestCookieNamesFor(t *testing.T) {
	tests := []struct {
		f      session.Format
		secure bool
		want   []string
	}{
		{session.FormatV4, false, []string{session.CookieName, session.SecureCookieName}},
		{session.FormatV5, false, []string{session.V5CookieName, session.V5SecureCookieName}},
		{session.FormatV5, true, []string{session.V5SecureCookieName, session.V5CookieName}},
		{session.FormatAuto, true, []string{session.V5SecureCookieName, session.SecureCookieName, session.V5CookieName, session.CookieName}},
	}
	for _, tt := range tests {
		if got := session.CookieNamesFor(tt.f, tt.secure); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("CookieNamesFor(%s, %v) = %q, want %q", tt.f, tt.secure, got, tt.want)
		}
	}
}

// TestEncodeV5AcceptedByAuthJS: a Go-minted v5 token has the header
// @auth/core writes and is accepted by @auth/core's decode and by Resolve.
func TestEncodeV5AcceptedByAuthJS(t *testing.T) {
	now := time.Now()
	tok, err := session.EncodeV5(secret, session.V5SecureCookieName, map[string]any{"sub": "u9"}, time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	v := nextauthmint.Mint(t, nextauthmint.Case{Name: "go v5", Kind: nextauthmint.KindDecodeV5, Secret: secret, SecureCookie: true, Token: tok})
	if v[0].DecodeError != "" || v[0].Claims["sub"] != "u9" {
		t.Fatalf("@auth/core decode of a Go v5 token: %q, claims %v", v[0].DecodeError, v[0].Claims)
	}
	r, err := session.NewJWT(session.JWTConfig{Format: session.FormatV5, V5Secrets: []string{"newer", secret}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := r.Resolve(context.Background(), session.Credential{Token: tok, Source: session.SourceCookie, Cookie: session.V5SecureCookieName})
	if err != nil || s.Subject != "u9" {
		t.Fatalf("Resolve: %+v, %v", s, err)
	}
	// Bearer: tried under both v5 salts.
	if s, err := r.Resolve(context.Background(), session.Credential{Token: tok, Source: session.SourceBearer}); err != nil || s.Subject != "u9" {
		t.Fatalf("Resolve bearer: %+v, %v", s, err)
	}
	// Under the other cookie name (salt) it does not decrypt.
	if _, err := r.Resolve(context.Background(), session.Credential{Token: tok, Source: session.SourceCookie, Cookie: session.V5CookieName}); !errors.Is(err, session.ErrInvalid) {
		t.Errorf("salt mismatch: %v, want ErrInvalid", err)
	}
}

func TestResolveV5ExpiredBearerSaysExpired(t *testing.T) {
	tok, err := session.EncodeV5(secret, session.V5CookieName, map[string]any{"sub": "u9"}, -time.Minute, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	r, err := session.NewJWT(session.JWTConfig{Format: session.FormatAuto, V4Secret: secret, V5Secrets: []string{secret}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Resolve(context.Background(), session.Credential{Token: tok, Source: session.SourceBearer}); !errors.Is(err, session.ErrExpired) {
		t.Errorf("expired v5 bearer: %v, want ErrExpired", err)
	}
}

func TestNewJWTErrors(t *testing.T) {
	for name, cfg := range map[string]session.JWTConfig{
		"unknown format":    {Format: "v6", V4Secret: "s"},
		"v5 without secret": {Format: session.FormatV5},
		"auto without v4":   {Format: session.FormatAuto, V5Secrets: []string{"s"}},
		"empty v5 secret":   {Format: session.FormatV5, V5Secrets: []string{""}},
	} {
		if _, err := session.NewJWT(cfg); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}
