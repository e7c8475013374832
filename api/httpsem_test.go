package api_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/routeapi/routeapi/api"
	"github.com/routeapi/routeapi/internal/apitoken"
	"github.com/routeapi/routeapi/internal/metrics"
	"github.com/routeapi/routeapi/internal/settings"
	"github.com/routeapi/routeapi/internal/testkit/fakeclock"
	"github.com/routeapi/routeapi/internal/testkit/spectest"
)

// withMetrics is a harness with the metrics middleware and /metrics, as serve mounts them.
func withMetrics(t *testing.T) *harness {
	t.Helper()
	m := metrics.New(nil)
	return newHarness(t, options{requests: m, extra: func(r chi.Router) { r.Get("/metrics", m.Handler().ServeHTTP) }})
}

// liveServer serves h's handler over real HTTP/1.1 on 127.0.0.1, with the
// header limit serve gives http.Server. net/http drops the body of a HEAD
// answer, as in production (a ResponseRecorder keeps it).
func liveServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.MaxHeaderBytes = api.ServerMaxHeaderBytes
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// fetch sends one request to srv and checks the answer against openapi.yaml.
func fetch(t *testing.T, srv *httptest.Server, method, path string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if err := spectest.CheckResponse(req, resp.StatusCode, resp.Header, body); err != nil {
		t.Errorf("%s %s: %v\nbody: %s", method, path, err, body)
	}
	return resp, body
}

// TestHead: every path that answers GET answers HEAD with the same status
// and header fields and no body (RFC 9110 §9.3.2), in and outside the spec.
func TestHead(t *testing.T) {
	srv := liveServer(t, withMetrics(t).handler)
	notReady := liveServer(t, newHarness(t, options{settings: fakeSettings{err: errNoSettings}}).handler)
	for _, tc := range []struct {
		srv  *httptest.Server
		path string
	}{
		{srv, "/healthz"}, {srv, "/readyz"}, {notReady, "/readyz"}, {srv, "/openapi.json"}, {srv, "/openapi.yaml"},
		{srv, "/docs/"}, {srv, "/docs/swagger-ui.css"}, {srv, "/docs"}, {srv, "/metrics"},
	} {
		get, getBody := fetch(t, tc.srv, http.MethodGet, tc.path, nil)
		head, headBody := fetch(t, tc.srv, http.MethodHead, tc.path, nil)
		if head.StatusCode != get.StatusCode {
			t.Errorf("HEAD %s: %d, GET: %d", tc.path, head.StatusCode, get.StatusCode)
		}
		if len(headBody) != 0 {
			t.Errorf("HEAD %s: a body of %d bytes", tc.path, len(headBody))
		}
		if len(getBody) == 0 && get.StatusCode != http.StatusMovedPermanently {
			t.Errorf("GET %s: no body", tc.path)
		}
		for _, f := range []string{"Content-Type", "Cache-Control", "Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Location", "Retry-After"} {
			if g, h := get.Header.Get(f), head.Header.Get(f); g != h {
				t.Errorf("%s %s: GET %q, HEAD %q", tc.path, f, g, h)
			}
		}
		// net/http sends the length of what HEAD's handler wrote, the GET body's (a gzipped asset aside).
		if cl := head.Header.Get("Content-Length"); cl != "" && get.Header.Get("Content-Encoding") == "" && cl != strconv.Itoa(len(getBody)) {
			t.Errorf("HEAD %s: Content-Length %s, GET body %d bytes", tc.path, cl, len(getBody))
		}
	}
}

var errNoSettings = fmt.Errorf("no settings loaded: %w", settings.ErrUnavailable)

// TestAllow: every 405 lists the methods the path accepts (RFC 9110
// §15.5.6); HEAD is accepted wherever GET is; a method at a path that
// accepts none is a 404, whatever the method.
func TestAllow(t *testing.T) {
	srv := liveServer(t, withMetrics(t).handler)
	for _, tc := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/api/route", 405, "POST"},
		{"HEAD", "/api/route", 405, "POST"},
		{"PUT", "/api/route", 405, "POST"},
		{"OPTIONS", "/api/route", 405, "POST"},
		{"M1", "/api/route", 405, "POST"},
		{"DELETE", "/healthz", 405, "GET, HEAD"},
		{"POST", "/readyz", 405, "GET, HEAD"},
		{"PATCH", "/openapi.json", 405, "GET, HEAD"},
		{"POST", "/openapi.yaml", 405, "GET, HEAD"},
		{"POST", "/docs/", 405, "GET, HEAD"},
		{"DELETE", "/docs/swagger-ui.css", 405, "GET, HEAD"},
		{"POST", "/metrics", 405, "GET, HEAD"},
		{"M1", "/healthz", 405, "GET, HEAD"},
		{"GET", "/nowhere", 404, ""},
		{"M1", "/nowhere", 404, ""},
		{"DELETE", "/api/route/x", 404, ""},
	} {
		resp, body := fetch(t, srv, tc.method, tc.path, nil)
		if resp.StatusCode != tc.status || resp.Header.Get("Allow") != tc.allow {
			t.Errorf("%s %s: %d Allow %q, want %d Allow %q: %s", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Allow"), tc.status, tc.allow, body)
		}
		if tc.method != http.MethodHead && !strings.Contains(string(body), "urn:routeapi:problem:") {
			t.Errorf("%s %s: not a problem: %s", tc.method, tc.path, body)
		}
	}
}

// TestSecurityHeaders: nosniff on every answer (spectest checks it on every
// response of every test); the console may not be framed, and its CSP
// allows its inline scripts and styles by hash only.
func TestSecurityHeaders(t *testing.T) {
	h := newHarness(t, options{})
	for _, r := range []request{
		{method: "GET", path: "/healthz"},
		{body: `{"data":1}`},
		{body: `{"data":1}`, cookies: []*http.Cookie{cookieFor(t, adaClaims)}},
		{method: "GET", path: "/nowhere"},
		{method: "GET", path: "/openapi.json"},
		{method: "GET", path: "/docs/swagger-ui-bundle.js"},
	} {
		if got := h.serve(t, r).Header().Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s %s: X-Content-Type-Options %q", r.method, r.path, got)
		}
	}
	for _, path := range []string{"/docs/", "/docs/no-such-asset.js", "/docs/swagger-ui.css", "/docs/swagger-ui-bundle.js"} {
		rec := h.serve(t, request{method: "GET", path: path})
		csp := rec.Header().Get("Content-Security-Policy")
		if rec.Header().Get("X-Frame-Options") != "DENY" || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("GET %s: X-Frame-Options %q, CSP %q", path, rec.Header().Get("X-Frame-Options"), csp)
		}
		for _, bad := range []string{"unsafe-inline", "unsafe-eval", "*", "http:", "https:"} {
			if strings.Contains(csp, bad) {
				t.Errorf("GET %s: the CSP allows %s: %s", path, bad, csp)
			}
		}
		if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'self' 'sha256-") {
			t.Errorf("GET %s: CSP %q", path, csp)
		}
	}
	// The page's inline scripts are exactly the ones the CSP names.
	rec := h.serve(t, request{method: "GET", path: "/docs/"})
	scripts := regexp.MustCompile(`(?s)<script>(.*?)</script>`).FindAllStringSubmatch(rec.Body.String(), -1)
	if got := strings.Count(rec.Header().Get("Content-Security-Policy"), "'sha256-"); len(scripts) == 0 || got < len(scripts) {
		t.Errorf("%d inline scripts, %d hashes in the CSP", len(scripts), got)
	}
}

// rawExchange sends raw bytes on a new connection to srv and returns the
// answer, read with http.ReadResponse.
func rawExchange(t *testing.T, srv *httptest.Server, raw string) (*http.Response, string) {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// headOfSize is a GET /healthz head of exactly n bytes on the wire.
func headOfSize(t *testing.T, host string, n int) string {
	t.Helper()
	base := "GET /healthz HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\nX-Pad: \r\n\r\n"
	if n < len(base) {
		t.Fatalf("a head of %d bytes is too short", n)
	}
	return strings.Replace(base, "X-Pad: ", "X-Pad: "+strings.Repeat("p", n-len(base)), 1)
}

// TestHeaderLimit: a head up to api.MaxHeaderBytes is served, one byte more
// is a 431 problem (with X-Request-Id); only a head over the server's own
// limit gets net/http's plain-text 431, one of the documented answers
// routeapi cannot make a problem document.
func TestHeaderLimit(t *testing.T) {
	srv := liveServer(t, newHarness(t, options{}).handler)
	host := srv.Listener.Addr().String()
	get := func(raw string) *http.Request {
		req := httptest.NewRequest(http.MethodGet, "/healthz", nil)
		req.Header.Set("X-Pad", "x")
		return req
	}
	raw := headOfSize(t, host, api.MaxHeaderBytes)
	resp, body := rawExchange(t, srv, raw)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("a head of exactly %d bytes: %d %s", api.MaxHeaderBytes, resp.StatusCode, body)
	}
	if err := spectest.CheckResponse(get(raw), resp.StatusCode, resp.Header, []byte(body)); err != nil {
		t.Error(err)
	}
	for _, n := range []int{api.MaxHeaderBytes + 1, 2 * api.MaxHeaderBytes, api.ServerMaxHeaderBytes} {
		raw := headOfSize(t, host, n)
		resp, body := rawExchange(t, srv, raw)
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge || !strings.Contains(body, "urn:routeapi:problem:request-header-fields-too-large") ||
			resp.Header.Get("X-Request-Id") == "" {
			t.Errorf("a head of %d bytes: %d %v %s", n, resp.StatusCode, resp.Header, body)
		}
		if err := spectest.CheckResponse(get(raw), resp.StatusCode, resp.Header, []byte(body)); err != nil {
			t.Errorf("a head of %d bytes: %v", n, err)
		}
	}
	// Past net/http's limit (MaxHeaderBytes plus its 4096 bytes of slack) the
	// server answers before any handler runs: plain text, no request id.
	resp, body = rawExchange(t, srv, headOfSize(t, host, api.ServerMaxHeaderBytes+8192))
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge || resp.Header.Get("X-Request-Id") != "" ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Errorf("a head over the server's limit: %d %v %s", resp.StatusCode, resp.Header, body)
	}
}

// TestServerWrittenAnswers: the answers README lists as written by net/http
// before routeapi sees the request are exactly those: they carry no request
// id (routeapi never ran). If net/http ever hands one of them to the
// handler, this test fails and the README's list must shrink.
func TestServerWrittenAnswers(t *testing.T) {
	srv := liveServer(t, newHarness(t, options{}).handler)
	host := srv.Listener.Addr().String()
	for _, tc := range []struct {
		name, raw string
		status    int
	}{
		{"malformed request line", "GET\r\n\r\n", 400},
		{"invalid method token", "G(T /healthz HTTP/1.1\r\nHost: " + host + "\r\n\r\n", 400},
		{"malformed version", "GET /healthz HTTP/x\r\nHost: " + host + "\r\n\r\n", 400},
		{"malformed header line", "GET /healthz HTTP/1.1\r\nHost: " + host + "\r\nno colon\r\n\r\n", 400},
		{"invalid header name", "GET /healthz HTTP/1.1\r\nHost: " + host + "\r\nBad Name: x\r\n\r\n", 400},
		{"missing Host", "GET /healthz HTTP/1.1\r\n\r\n", 400},
		{"malformed Host", "GET /healthz HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
		{"invalid Content-Length", "POST /api/route HTTP/1.1\r\nHost: " + host + "\r\nContent-Length: x\r\n\r\n", 400},
		{"HTTP/2.0 request line", "GET /healthz HTTP/2.0\r\nHost: " + host + "\r\n\r\n", 505},
		{"unknown transfer coding", "POST /api/route HTTP/1.1\r\nHost: " + host + "\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
		{"unknown expectation", "POST /api/route HTTP/1.1\r\nHost: " + host + "\r\nExpect: tea\r\nContent-Length: 1\r\n\r\nx", 417},
	} {
		resp, body := rawExchange(t, srv, tc.raw)
		if resp.StatusCode != tc.status || resp.Header.Get("X-Request-Id") != "" || strings.Contains(body, "urn:routeapi:problem") {
			t.Errorf("%s: %d %v %q, want net/http's own %d", tc.name, resp.StatusCode, resp.Header, body, tc.status)
		}
	}
	resp, _ := rawExchange(t, srv, "OPTIONS * HTTP/1.1\r\nHost: "+host+"\r\n\r\n")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Request-Id") != "" {
		t.Errorf("OPTIONS *: %d %v, want net/http's own empty 200", resp.StatusCode, resp.Header)
	}
}

// TestMetricLabelsBounded: requests with many methods and paths do not grow
// routeapi_http_requests_total or /metrics: unknown methods are "other",
// paths no route matches are "other".
func TestMetricLabelsBounded(t *testing.T) {
	srv := liveServer(t, withMetrics(t).handler)
	wave := func(i int) {
		for _, m := range []string{fmt.Sprintf("M%d", i), fmt.Sprintf("m%d", i), "GET", "DELETE"} {
			for _, p := range []string{"/healthz", "/api/route", fmt.Sprintf("/x/%d", i), fmt.Sprintf("/docs/%d", i), fmt.Sprintf("/api/route/%d", i)} {
				fetch(t, srv, m, p, nil)
			}
		}
	}
	series := func() (requests, lines int) {
		_, body := fetch(t, srv, http.MethodGet, "/metrics", nil)
		for _, l := range strings.Split(string(body), "\n") {
			if strings.HasPrefix(l, "routeapi_http_requests_total{") {
				requests++
			}
			if strings.HasPrefix(l, "routeapi_") {
				lines++
			}
		}
		return requests, lines
	}
	wave(0)
	series() // the scrape itself is a series
	before, beforeLines := series()
	for i := 1; i <= 50; i++ {
		wave(i)
	}
	after, afterLines := series()
	if after != before || afterLines != beforeLines {
		t.Errorf("routeapi_http_requests_total: %d series, then %d; routeapi_ lines: %d, then %d", before, after, beforeLines, afterLines)
	}
	_, body := fetch(t, srv, http.MethodGet, "/metrics", nil)
	if !strings.Contains(string(body), `method="other"`) || strings.Contains(string(body), `method="M1"`) {
		t.Errorf("methods are not bounded:\n%s", body)
	}
}

// TestRateLimitResetIsTrue: a client that waits the 429's Retry-After
// (= RateLimit-Reset) on the injected clock is served again.
func TestRateLimitResetIsTrue(t *testing.T) {
	_, hash := apitoken.New()
	store, _ := settingsFile(t, "route:\n  rateLimit: {requests: 2, per: 1m}\napiTokens:\n  - {id: svc, sha256: "+hash+"}\n")
	clock := fakeclock.New(testNow)
	h := newHarness(t, options{store: store, now: clock.Now})
	ada := request{body: `{"data":1}`, cookies: []*http.Cookie{cookieFor(t, adaClaims)}}
	for range 2 {
		if rec := h.serve(t, ada); rec.Code != 200 {
			t.Fatalf("%d", rec.Code)
		}
	}
	rec := h.serve(t, ada)
	retry, err := strconv.Atoi(rec.Header().Get("Retry-After"))
	if rec.Code != 429 || err != nil || rec.Header().Get("RateLimit-Reset") != rec.Header().Get("Retry-After") {
		t.Fatalf("third request: %d Retry-After %q RateLimit-Reset %q", rec.Code, rec.Header().Get("Retry-After"), rec.Header().Get("RateLimit-Reset"))
	}
	clock.Advance(time.Duration(retry)*time.Second - time.Millisecond)
	if rec := h.serve(t, ada); rec.Code != 429 {
		t.Errorf("just before Retry-After: %d, want 429", rec.Code)
	}
	clock.Advance(time.Millisecond)
	if rec := h.serve(t, ada); rec.Code != 200 {
		t.Errorf("after waiting Retry-After (%ds): %d, want 200", retry, rec.Code)
	}
}
