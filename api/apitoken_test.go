package api_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/routeapi/routeapi/internal/apitoken"
	"github.com/routeapi/routeapi/internal/settings"
)

// settingsFile writes content to a settings file and returns a store that loaded it.
func settingsFile(t *testing.T, content string) (*settings.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "settings.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	store := settings.NewStore(path, nil)
	if err := store.Reload(); err != nil {
		t.Fatal(err)
	}
	return store, path
}

// rewrite replaces the settings file and reloads the store, as the watcher or SIGHUP would.
func rewrite(t *testing.T, store *settings.Store, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := store.Reload(); err != nil {
		t.Fatal(err)
	}
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

func TestAPITokens(t *testing.T) {
	tok, hash := apitoken.New()
	other, otherHash := apitoken.New()
	withBoth := "apiTokens:\n  - {id: svc-billing, name: Billing, sha256: " + hash + "}\n  - {id: svc-other, sha256: " + otherHash + "}\n"
	store, path := settingsFile(t, withBoth)
	h := newHarness(t, options{store: store})

	rec := h.serve(t, request{body: `{"data":1}`, headers: bearer(tok)})
	if rec.Code != 200 {
		t.Fatalf("valid token: %d %s", rec.Code, rec.Body)
	}
	if u := h.pub.events[0].Data.User; u.ID != "svc-billing" || u.Name != "Billing" || u.Email != "" {
		t.Errorf("event user %+v, want the token's identity {svc-billing Billing}", u)
	}

	wrongLast := byte('a')
	if tok[len(tok)-1] == 'a' {
		wrongLast = 'b'
	}
	for name, bad := range map[string]string{
		"wrong token":      tok[:len(tok)-1] + string(wrongLast),
		"the hash itself":  "rk_" + hash,
		"prefix only":      "rk_",
		"other case token": "RK_" + tok[3:],
	} {
		rec := h.serve(t, request{body: `{"data":1}`, headers: bearer(bad)})
		if rec.Code != 401 || decodeProblem(t, rec).Type != "urn:routeapi:problem:unauthenticated" {
			t.Errorf("%s: %d %s, want 401 unauthenticated", name, rec.Code, rec.Body)
		}
	}

	// Revoked by removing its line; the reload applies it at once.
	rewrite(t, store, path, "apiTokens:\n  - {id: svc-other, sha256: "+otherHash+"}\n")
	if rec := h.serve(t, request{body: `{"data":1}`, headers: bearer(tok)}); rec.Code != 401 {
		t.Errorf("revoked token: %d %s, want 401", rec.Code, rec.Body)
	}
	if rec := h.serve(t, request{body: `{"data":1}`, headers: bearer(other)}); rec.Code != 200 {
		t.Errorf("the token still listed: %d %s, want 200", rec.Code, rec.Body)
	}
	if n := len(h.pub.events); n != 2 {
		t.Errorf("%d events published, want 2 (refused requests publish nothing)", n)
	}
}

func TestRateLimit(t *testing.T) {
	tok, hash := apitoken.New()
	limited := func(n int) string {
		return "route:\n  rateLimit: {requests: " + strconv.Itoa(n) + ", per: 1m}\napiTokens:\n  - {id: svc, sha256: " + hash + "}\n"
	}
	store, path := settingsFile(t, limited(3))
	h := newHarness(t, options{store: store})
	ada := cookieFor(t, adaClaims)
	send := func(r request) *http.Response {
		t.Helper()
		return h.serve(t, r).Result()
	}
	for i := range 3 {
		res := send(request{body: `{"data":1}`, cookies: []*http.Cookie{ada}})
		if res.StatusCode != 200 {
			t.Fatalf("request %d: %d", i+1, res.StatusCode)
		}
		if got, want := res.Header.Get("RateLimit-Remaining"), strconv.Itoa(2-i); got != want || res.Header.Get("RateLimit-Limit") != "3" {
			t.Errorf("request %d: RateLimit-Limit %q, -Remaining %q; want 3, %s", i+1, res.Header.Get("RateLimit-Limit"), got, want)
		}
	}
	res := send(request{body: `{"data":1}`, cookies: []*http.Cookie{ada}})
	if res.StatusCode != 429 {
		t.Fatalf("request 4: %d, want 429", res.StatusCode)
	}
	// 3 per minute refills one request every 20 s; the clock stands still, so
	// both fields name exactly that instant (draft-ietf-httpapi-ratelimit-headers:
	// RateLimit-Reset SHOULD equal Retry-After when both are sent).
	for name, want := range map[string]string{"RateLimit-Limit": "3", "RateLimit-Remaining": "0", "Retry-After": "20", "RateLimit-Reset": "20"} {
		if got := res.Header.Get(name); got != want {
			t.Errorf("429 %s = %q, want %q", name, got, want)
		}
	}
	if len(h.pub.events) != 3 {
		t.Errorf("%d events, want 3: the limited request must not publish", len(h.pub.events))
	}
	// Identities are counted apart: another user, and an API token.
	if res := send(request{body: `{"data":1}`, cookies: []*http.Cookie{cookieFor(t, map[string]any{"sub": "user_43"})}}); res.StatusCode != 200 {
		t.Errorf("another user: %d, want 200", res.StatusCode)
	}
	if res := send(request{body: `{"data":1}`, headers: bearer(tok)}); res.StatusCode != 200 {
		t.Errorf("an API token: %d, want 200", res.StatusCode)
	}
	// A settings reload that raises the limit takes effect at the next request.
	rewrite(t, store, path, limited(5))
	if res := send(request{body: `{"data":1}`, cookies: []*http.Cookie{ada}}); res.StatusCode != 200 || res.Header.Get("RateLimit-Limit") != "5" {
		t.Errorf("after raising the limit: %d, RateLimit-Limit %q; want 200 and 5", res.StatusCode, res.Header.Get("RateLimit-Limit"))
	}
	// And removing it lifts it: no headers either.
	rewrite(t, store, path, "route: {}\n")
	res = send(request{body: `{"data":1}`, cookies: []*http.Cookie{ada}})
	if res.StatusCode != 200 || res.Header.Get("RateLimit-Limit") != "" {
		t.Errorf("without a limit: %d, RateLimit-Limit %q; want 200 and none", res.StatusCode, res.Header.Get("RateLimit-Limit"))
	}
}
