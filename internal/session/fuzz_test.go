package session_test

import (
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/session"
)

// FuzzDecode feeds arbitrary tokens to the decoder: it never panics and every
// failure is one of the package's errors (so the handler answers 401).
func FuzzDecode(f *testing.F) {
	const secret = "fuzz-secret"
	tok, err := session.Encode(secret, map[string]any{"sub": "u1"}, time.Hour, time.Now())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tok)
	f.Add(tok[:len(tok)-3])
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1MSJ9.")
	f.Add("a.b.c.d.e")
	f.Add("")
	r, err := session.NewJWT(session.JWTConfig{Format: session.FormatV4, V4Secret: secret})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, token string) {
		_, err := r.Decode(token)
		if err != nil && !errors.Is(err, session.ErrMalformed) && !errors.Is(err, session.ErrInvalid) && !errors.Is(err, session.ErrExpired) {
			t.Fatalf("Decode(%q): %v is none of the session errors", token, err)
		}
	})
}

// FuzzExtract feeds arbitrary Cookie and Authorization headers to Extract.
func FuzzExtract(f *testing.F) {
	f.Add("next-auth.session-token=abc", "")
	f.Add("next-auth.session-token.0=a; next-auth.session-token.1=b", "Bearer x")
	f.Add("next-auth.session-token.0=a; next-auth.session-token.2=b", "")
	f.Add("next-auth.session-token.00=a", "bearer ")
	f.Add("", "Bearer")
	f.Add("next-auth.session-token=a; next-auth.session-token=b", "")
	f.Add("next-auth.session-token=\"a\"; x=\t y", "Bearer a%2")
	f.Add("next-auth.session-token=; next-auth.session-token.0=a; next-auth.session-token.1=b", "BEARER  x")
	f.Fuzz(func(t *testing.T, cookie, authorization string) {
		req := httptest.NewRequest("POST", "/", nil)
		req.Header.Set("Cookie", cookie)
		req.Header.Set("Authorization", authorization)
		c, err := session.Extract(req, session.CookieNames(false))
		switch {
		case err == nil && c.Token == "":
			t.Fatalf("no error but an empty token for cookie %q, authorization %q", cookie, authorization)
		case err != nil && !errors.Is(err, session.ErrNoCredential) && !errors.Is(err, session.ErrMalformed) && !errors.Is(err, session.ErrAmbiguous):
			t.Fatalf("Extract: %v is none of the session errors", err)
		}
	})
}
