package session_test

import (
	"context"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/session"
)

// BenchmarkDecode measures decrypting and checking one next-auth v4 token
// (the key is derived once, outside the loop, as in the service).
func BenchmarkDecode(b *testing.B) {
	const secret = "bench-secret"
	tok, err := session.Encode(secret, map[string]any{"sub": "u1", "email": "u1@example.com", "name": "U One"}, time.Hour, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	r, err := session.NewJWTResolver(secret, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Decode(tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkResolveV5 measures one Auth.js v5 cookie (A256CBC-HS512, kid
// matched among two secrets), keys derived once as in the service.
func BenchmarkResolveV5(b *testing.B) {
	const secret = "bench-secret"
	tok, err := session.EncodeV5(secret, session.V5CookieName, map[string]any{"sub": "u1", "email": "u1@example.com", "name": "U One"}, time.Hour, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	r, err := session.NewJWT(session.JWTConfig{Format: session.FormatAuto, V4Secret: secret, V5Secrets: []string{"newer-secret", secret}})
	if err != nil {
		b.Fatal(err)
	}
	cred := session.Credential{Token: tok, Source: session.SourceCookie, Cookie: session.V5CookieName}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Resolve(context.Background(), cred); err != nil {
			b.Fatal(err)
		}
	}
}
