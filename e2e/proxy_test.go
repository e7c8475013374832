package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/routeapi/routeapi/internal/testkit/nextauthmint"
)

// rewriteProxy is the app's rewrite of /api/route as Next.js does it: a
// reverse proxy on the app's origin that sends the request on to routeapi
// with routeapi's address as Host. It listens before routeapi starts (the
// app's URL is part of routeapi's configuration); route points it at routeapi.
type rewriteProxy struct {
	srv    *httptest.Server
	Origin string
}

func newRewriteProxy(t *testing.T) *rewriteProxy {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil) // listens on 127.0.0.1
	t.Cleanup(srv.Close)
	return &rewriteProxy{srv: srv, Origin: "http://" + srv.Listener.Addr().String()}
}

// route starts the proxy in front of target and returns target as seen through it.
func (p *rewriteProxy) route(t *testing.T, target *routeAPI) *routeAPI {
	t.Helper()
	u, err := url.Parse(target.URL)
	if err != nil {
		t.Fatal(err)
	}
	// SetURL rewrites Host to the target's, as the Next.js rewrite does.
	p.srv.Config.Handler = &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(u) }}
	p.srv.Start()
	via := *target
	via.URL = p.srv.URL
	return &via
}

// TestSameOriginThroughRewrite: a browser on the app's pages that sends no
// Sec-Fetch-Site (plain http on a LAN address or service name, Safari before
// 16.4) calls /api/route through the app's rewrite, which replaces Host.
// With NEXTAUTH_URL (or AUTH_URL) naming the app, its Origin is trusted: 200,
// with or without Sec-Fetch-Site; any other origin is still refused (403).
// Without it, the same request is refused: the proxy really moved Host.
func TestSameOriginThroughRewrite(t *testing.T) {
	inngest := startInngest(t)
	event := "e2e/proxy." + randomSuffix()
	for _, tc := range []struct {
		name    string
		appURL  map[string]string
		trusted bool
	}{
		{"NEXTAUTH_URL", map[string]string{"NEXTAUTH_URL": "{app}/api/auth"}, true},
		{"AUTH_URL", map[string]string{"AUTH_URL": "{app}/api/auth"}, true},
		{"neither", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proxy := newRewriteProxy(t)
			env := map[string]string{"INNGEST_BASE_URL": inngest.URL}
			for k, v := range tc.appURL {
				env[k] = proxy.Origin + v[len("{app}"):]
			}
			srv := startRouteAPI(t, settingsYAML(event, true, 1024), env)
			app := proxy.route(t, srv)
			v := nextauthmint.Mint(t, nextauthmint.Case{Name: "ada", Secret: srv.Secret, Claims: ada, MaxAge: 3600})[0]
			sameOriginWant := http.StatusForbidden
			if tc.trusted {
				sameOriginWant = http.StatusOK
			}
			for _, c := range []struct {
				origin, fetchSite string
				want              int
			}{
				{proxy.Origin, "", sameOriginWant},
				{proxy.Origin, "same-origin", http.StatusOK},
				{"http://evil.example", "", http.StatusForbidden},
				{"http://evil.example", "cross-site", http.StatusForbidden},
				{"http://127.0.0.1:1", "", http.StatusForbidden},
				{"", "", http.StatusOK}, // not a browser (curl, a server)
			} {
				h := cookieHeader(v)
				if c.origin != "" {
					h.Set("Origin", c.origin)
				}
				if c.fetchSite != "" {
					h.Set("Sec-Fetch-Site", c.fetchSite)
				}
				resp := app.post(t, `{"data":"via the rewrite"}`, h)
				if resp.Status != c.want {
					t.Errorf("Origin %q, Sec-Fetch-Site %q: %d, want %d: %s", c.origin, c.fetchSite, resp.Status, c.want, resp.Body)
				}
				if resp.Status == http.StatusForbidden && resp.problemType() != "cross-origin" {
					t.Errorf("Origin %q: 403 %q, want cross-origin", c.origin, resp.problemType())
				}
			}
		})
	}
}

// TestHTTPSemantics: the built binary (serve's http.Server and /metrics)
// answers HEAD like GET without a body, lists Allow on a 405, and answers a
// head over 64 KiB with a 431 problem; only past the server's 1 MiB limit
// does net/http answer in plain text.
func TestHTTPSemantics(t *testing.T) {
	srv := startRouteAPI(t, settingsYAML("e2e/http."+randomSuffix(), true, 1024), map[string]string{"INNGEST_BASE_URL": "http://127.0.0.1:1"})
	for _, path := range []string{"/healthz", "/readyz", "/openapi.json", "/openapi.yaml", "/docs/", "/metrics"} {
		get := srv.do(t, http.MethodGet, path, "", nil)
		head := srv.do(t, http.MethodHead, path, "", nil)
		if head.Status != get.Status || len(head.Body) != 0 || head.Header.Get("Content-Type") != get.Header.Get("Content-Type") {
			t.Errorf("HEAD %s: %d %q, %d bytes; GET: %d %q", path, head.Status, head.Header.Get("Content-Type"), len(head.Body),
				get.Status, get.Header.Get("Content-Type"))
		}
	}
	for path, allow := range map[string]string{"/api/route": "POST", "/healthz": "GET, HEAD", "/metrics": "GET, HEAD"} {
		method := http.MethodDelete
		if resp := srv.do(t, method, path, "", nil); resp.Status != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != allow {
			t.Errorf("%s %s: %d Allow %q, want 405 Allow %q", method, path, resp.Status, resp.Header.Get("Allow"), allow)
		}
	}
	big := http.Header{"X-Pad": {strings.Repeat("p", 100<<10)}}
	if resp := srv.do(t, http.MethodGet, "/healthz", "", big); resp.Status != http.StatusRequestHeaderFieldsTooLarge ||
		resp.problemType() != "request-header-fields-too-large" || resp.Header.Get("X-Request-Id") == "" {
		t.Errorf("a 100 KiB head: %d %q %v", resp.Status, resp.problemType(), resp.Header)
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL+"/healthz", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Pad", strings.Repeat("p", (1<<20)+8192))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Errorf("a head over 1 MiB: %d %q (the documented plain-text exception)", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
