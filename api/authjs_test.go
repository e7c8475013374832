package api_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/routeapi/routeapi/internal/session"
	"github.com/routeapi/routeapi/internal/testkit/nextauthmint"
	"github.com/routeapi/routeapi/internal/user"
)

// Secrets for the v5 vectors: [newSecret, oldSecret], as routeapi orders
// AUTH_SECRET (current) and AUTH_SECRET_1 (older).
const (
	v4Secret  = "v4-secret-Ωmega"
	newSecret = "v5-new-secret-ünïcode"
	oldSecret = "v5-old-secret"
)

var v5Claims = map[string]any{"sub": "user_v5", "email": "grace@example.com", "name": "Grace", "picture": "https://example.com/g.png", "uid": "custom-42"}

// TestAuthJSVectors sends tokens minted by the real @auth/core 0.41.3 and
// next-auth 4.24.15 through the full handler: every case of
// nextauth-sessions.md §5 (v4 and v5) plus rotation, A256GCM, bearer tokens
// and formats.
// Each answer is checked against openapi.yaml, and each verdict against
// what the library's own decode says about the same token.
func TestAuthJSVectors(t *testing.T) {
	type tc struct {
		c nextauthmint.Case
		// rename sends the cookies under this base name instead (salt mismatch, v4<->v5).
		rename string
		bearer bool
		format session.Format
		claim  string // ROUTEAPI_USER_ID_CLAIM
		want   int
		// libOK is what the library's own decode said at mint time.
		libOK  bool
		wantID string
		chunks int
	}
	v5 := func(name string) nextauthmint.Case {
		return nextauthmint.Case{Name: name, Kind: nextauthmint.KindV5, Secrets: []string{newSecret}, MaxAge: 3600}
	}
	with := func(c nextauthmint.Case, f func(*nextauthmint.Case)) nextauthmint.Case { f(&c); return c }
	tests := []tc{
		{c: v5("v5 plain"), want: 200, libOK: true, chunks: 1},
		{c: with(v5("v5 __Secure-"), func(c *nextauthmint.Case) { c.SecureCookie = true }), want: 200, libOK: true, chunks: 1},
		{c: with(v5("v5 chunked"), func(c *nextauthmint.Case) { c.PadBytes = 8000 }), want: 200, libOK: true, chunks: 3},
		{c: with(v5("v5 chunked __Secure-"), func(c *nextauthmint.Case) { c.PadBytes = 8000; c.SecureCookie = true }), want: 200, libOK: true, chunks: 3},
		{c: with(v5("v5 rotated: old secret, kid"), func(c *nextauthmint.Case) {
			c.Secrets = []string{oldSecret}
			c.DecodeSecrets = []string{newSecret, oldSecret}
		}), want: 200, libOK: true, chunks: 1},
		{c: nextauthmint.Case{Name: "v5 rotated: old secret, no kid", Kind: nextauthmint.KindV5NoKid, Secrets: []string{oldSecret},
			DecodeSecrets: []string{newSecret, oldSecret}, MaxAge: 3600}, want: 401, libOK: false, chunks: 1},
		{c: nextauthmint.Case{Name: "v5 new secret, no kid", Kind: nextauthmint.KindV5NoKid, Secrets: []string{newSecret},
			DecodeSecrets: []string{newSecret, oldSecret}, MaxAge: 3600}, want: 200, libOK: true, chunks: 1},
		{c: nextauthmint.Case{Name: "v5 A256GCM", Kind: nextauthmint.KindV5GCM, Secrets: []string{newSecret}, MaxAge: 3600}, want: 200, libOK: true, chunks: 1},
		{c: nextauthmint.Case{Name: "v5 A256GCM old secret", Kind: nextauthmint.KindV5GCM, Secrets: []string{oldSecret},
			DecodeSecrets: []string{newSecret, oldSecret}, MaxAge: 3600}, want: 200, libOK: true, chunks: 1},
		{c: with(v5("v5 wrong secret"), func(c *nextauthmint.Case) {
			c.Secrets = []string{"not-our-secret"}
			c.DecodeSecrets = []string{newSecret, oldSecret}
		}), want: 401, libOK: false, chunks: 1},
		{c: with(v5("v5 salt mismatch"), func(c *nextauthmint.Case) { c.Salt = session.V5CookieName; c.SecureCookie = true }), want: 401, libOK: false, chunks: 1},
		{c: with(v5("v5 expired 60 s"), func(c *nextauthmint.Case) { c.MaxAge = -60 }), want: 401, libOK: false, chunks: 1},
		{c: with(v5("v5 expired 5 s (tolerance)"), func(c *nextauthmint.Case) { c.MaxAge = -5 }), want: 200, libOK: true, chunks: 1},
		{c: nextauthmint.Case{Name: "v4 token -> v5 decoder", Secret: v4Secret, MaxAge: 3600}, rename: session.V5CookieName, want: 401, libOK: true, chunks: 1},
		{c: v5("v5 token -> v4 decoder"), rename: session.CookieName, want: 401, libOK: true, chunks: 1},
		{c: nextauthmint.Case{Name: "alg none JWT", Kind: nextauthmint.KindAlgNoneJWT, Secret: v4Secret, MaxAge: 3600}, rename: session.V5CookieName, want: 401, chunks: 1},
		{c: nextauthmint.Case{Name: "JWE with alg none", Kind: nextauthmint.KindJWEAlgNone, Secret: v4Secret, MaxAge: 3600}, rename: session.V5CookieName, want: 401, chunks: 1},
		{c: nextauthmint.Case{Name: "v4 still works (auto)", Secret: v4Secret, MaxAge: 3600}, want: 200, libOK: true, chunks: 1},
		{c: nextauthmint.Case{Name: "v4 __Secure- (auto)", Secret: v4Secret, MaxAge: 3600, SecureCookie: true}, want: 200, libOK: true, chunks: 1},
		{c: nextauthmint.Case{Name: "v4 chunked (auto)", Secret: v4Secret, MaxAge: 3600, PadBytes: 8000}, want: 200, libOK: true, chunks: 3},
		{c: nextauthmint.Case{Name: "v4 expired 5 s (auto)", Secret: v4Secret, MaxAge: -5}, want: 200, libOK: true, chunks: 1},
		{c: nextauthmint.Case{Name: "v4 expired 60 s (auto)", Secret: v4Secret, MaxAge: -60}, want: 401, libOK: false, chunks: 1},
		{c: nextauthmint.Case{Name: "v4 wrong secret (auto)", Secret: "not-our-secret", DecodeSecret: v4Secret, MaxAge: 3600}, want: 401, libOK: false, chunks: 1},
		{c: v5("v5 bearer"), bearer: true, want: 200, libOK: true, chunks: 1},
		{c: nextauthmint.Case{Name: "v4 bearer (auto)", Secret: v4Secret, MaxAge: 3600}, bearer: true, want: 200, libOK: true, chunks: 1},
		{c: v5("format v5 only"), format: session.FormatV5, want: 200, libOK: true, chunks: 1},
		{c: nextauthmint.Case{Name: "format v5 refuses v4 cookie", Secret: v4Secret, MaxAge: 3600}, format: session.FormatV5, want: 401, libOK: true, chunks: 1},
		{c: v5("format v4 refuses v5 cookie"), format: session.FormatV4, want: 401, libOK: true, chunks: 1},
		{c: v5("user id claim uid"), claim: "uid", want: 200, libOK: true, wantID: "custom-42", chunks: 1},
		{c: v5("user id claim missing"), claim: "tenant", want: 401, libOK: true, chunks: 1},
	}
	cases := make([]nextauthmint.Case, len(tests))
	for i, tt := range tests {
		c := tt.c
		if c.Claims == nil {
			c.Claims = v5Claims
		}
		cases[i] = c
	}
	vectors := nextauthmint.Mint(t, cases...)

	for i, tt := range tests {
		v := vectors[i]
		t.Run(tt.c.Name, func(t *testing.T) {
			if tt.c.Kind != nextauthmint.KindAlgNoneJWT && tt.c.Kind != nextauthmint.KindJWEAlgNone {
				if libOK := v.DecodeError == ""; libOK != tt.libOK {
					t.Fatalf("the library's own decode: ok=%v (%s), want ok=%v", libOK, v.DecodeError, tt.libOK)
				}
			}
			if len(v.Cookies) != tt.chunks {
				t.Fatalf("the library set %d cookies, want %d", len(v.Cookies), tt.chunks)
			}
			if tt.c.Kind == nextauthmint.KindV5 {
				checkV5Header(t, v.Token, tt.c)
			}
			format := tt.format
			if format == "" {
				format = session.FormatAuto
			}
			resolver, err := session.NewJWT(session.JWTConfig{Format: format, V4Secret: v4Secret, V5Secrets: []string{newSecret, oldSecret}})
			if err != nil {
				t.Fatal(err)
			}
			h := newHarness(t, options{sessions: resolver, users: user.FromClaims{IDClaim: tt.claim},
				cookieNames: session.CookieNamesFor(format, false)})
			req := request{body: `{"data":"v5"}`}
			if tt.bearer {
				req.headers = map[string]string{"Authorization": "Bearer " + v.Token}
			} else {
				for _, c := range v.Cookies {
					name := c.Name
					if tt.rename != "" {
						name = tt.rename + strings.TrimPrefix(strings.TrimPrefix(name, "__Secure-"), baseOf(name))
					}
					req.cookies = append(req.cookies, &http.Cookie{Name: name, Value: c.Value})
				}
			}
			rec := h.serve(t, req)
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.want, rec.Body)
			}
			if tt.want != 200 {
				if p := decodeProblem(t, rec); p.Type != "urn:routeapi:problem:unauthenticated" {
					t.Errorf("problem type %q", p.Type)
				}
				return
			}
			if len(h.pub.events) != 1 {
				t.Fatalf("%d events published, want 1", len(h.pub.events))
			}
			got := h.pub.events[0].Data.User
			wantID := tt.wantID
			if wantID == "" {
				wantID = "user_v5"
			}
			if got.ID != wantID || got.Email != "grace@example.com" || got.Name != "Grace" || got.Image != "https://example.com/g.png" {
				t.Errorf("event user %+v, want id %q and the token's email, name, picture", got, wantID)
			}
		})
	}
}

// baseOf is the session cookie base name a (possibly chunked, possibly __Secure-) cookie belongs to.
func baseOf(name string) string {
	n := strings.TrimPrefix(name, "__Secure-")
	for _, b := range []string{session.CookieName, session.V5CookieName} {
		if strings.HasPrefix(n, b) {
			return b
		}
	}
	return n
}

// checkV5Header checks that @auth/core really wrote the header
// nextauth-sessions.md §2 describes: alg dir, enc A256CBC-HS512, and a kid
// equal to the thumbprint of the key derived with the cookie name as salt.
func checkV5Header(t *testing.T, token string, c nextauthmint.Case) {
	t.Helper()
	var h struct{ Alg, Enc, Kid string }
	first, _, _ := strings.Cut(token, ".")
	raw, err := jsonB64(first)
	if err != nil || json.Unmarshal(raw, &h) != nil {
		t.Fatalf("header of %q: %v", first, err)
	}
	salt := c.Salt
	if salt == "" {
		salt = session.V5CookieName
		if c.SecureCookie {
			salt = session.V5SecureCookieName
		}
	}
	key, err := session.DeriveV5Key(c.Secrets[0], salt, "A256CBC-HS512")
	if err != nil {
		t.Fatal(err)
	}
	if h.Alg != "dir" || h.Enc != "A256CBC-HS512" || h.Kid != session.Thumbprint(key) {
		t.Errorf("header %+v, want alg dir, enc A256CBC-HS512, kid %s", h, session.Thumbprint(key))
	}
}

func jsonB64(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

// TestAutoPrefersV5Cookie: with both a stale v4 cookie (another secret) and
// a v5 cookie, auto mode reads the v5 one, as after a v4 -> v5 migration.
func TestAutoPrefersV5Cookie(t *testing.T) {
	v := nextauthmint.Mint(t,
		nextauthmint.Case{Name: "stale v4", Secret: "retired-v4-secret", Claims: map[string]any{"sub": "old"}, MaxAge: 3600},
		nextauthmint.Case{Name: "v5", Kind: nextauthmint.KindV5, Secrets: []string{newSecret}, Claims: map[string]any{"sub": "user_v5"}, MaxAge: 3600})
	resolver, err := session.NewJWT(session.JWTConfig{Format: session.FormatAuto, V4Secret: v4Secret, V5Secrets: []string{newSecret}})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, options{sessions: resolver, cookieNames: session.CookieNamesFor(session.FormatAuto, false)})
	rec := h.serve(t, request{body: `{"data":1}`, headers: map[string]string{"Cookie": v[0].CookieHeader + "; " + v[1].CookieHeader}})
	if rec.Code != 200 || h.pub.events[0].Data.User.ID != "user_v5" {
		t.Fatalf("%d %s, want 200 for user_v5", rec.Code, rec.Body)
	}
}
