package session_test

import (
	"context"
	"net/http/httptest"
	"strings"
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
	r, err := session.NewJWT(session.JWTConfig{Format: session.FormatV4, V4Secret: secret})
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

// BenchmarkExtract measures reading the credential off a request as a
// browser sends it: the session cookie (plain, or 3 chunks) among the app's
// other cookies, every session cookie name of the auto format. Extract reads
// the header as the pages router, the App Router and Auth.js each would.
func BenchmarkExtract(b *testing.B) {
	tok := strings.Repeat("x", 600) + "." + strings.Repeat("y", 200)
	others := "next-auth.csrf-token=" + strings.Repeat("c", 130) + "; next-auth.callback-url=http%3A%2F%2Flocalhost%3A3000; theme=dark"
	for name, cookie := range map[string]string{
		"plain":   others + "; next-auth.session-token=" + tok,
		"chunked": others + "; next-auth.session-token.0=" + strings.Repeat("a", 3933) + "; next-auth.session-token.1=" + strings.Repeat("b", 3933) + "; next-auth.session-token.2=" + tok,
	} {
		b.Run(name, func(b *testing.B) {
			r := httptest.NewRequest("POST", "/api/route", nil)
			r.Header.Set("Cookie", cookie)
			names := session.CookieNamesFor(session.FormatAuto, false)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := session.Extract(r, names); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
