package api_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestBodyOfOperationWithoutOne: an operation whose contract has no request
// body (GET /healthz, GET /readyz, and HEAD on them) answers as it would
// without one, whatever body comes with it: garbage, a content coding, a
// charset, a body over the limit. Before, the body checks of POST
// /api/route ran for every operation, and a probe got 400, 413 or 415,
// none of which openapi.yaml lists for these paths.
func TestBodyOfOperationWithoutOne(t *testing.T) {
	h := newHarness(t, options{})
	for _, path := range []string{"/healthz", "/readyz"} {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			for _, tc := range []struct {
				name, body string
				headers    map[string]string
			}{
				{"not JSON", "garbage", nil},
				{"two JSON values", "{} {}", map[string]string{"Content-Type": "application/json"}},
				{"gzip", "x", map[string]string{"Content-Encoding": "gzip"}},
				{"Latin-1", "x", map[string]string{"Content-Type": "text/plain; charset=iso-8859-1"}},
				{"over the body limit", strings.Repeat("x", 300<<10), nil},
			} {
				t.Run(method+path+"/"+tc.name, func(t *testing.T) {
					req := request{method: method, path: path, body: tc.body, headers: tc.headers}
					rec := httptest.NewRecorder()
					h.handler.ServeHTTP(rec, req.build())
					if rec.Code != http.StatusOK {
						t.Fatalf("status %d, want 200: %.300s", rec.Code, rec.Body)
					}
					checkAgainstSpec(t, req.build(), rec)
				})
			}
		}
	}
}

// TestFieldErrorsBounded: a body with many unknown members gets one 400
// whose errors list is bounded (a 1.7 MB body of 150 000 members got a 10 MB
// answer listing each), the first ones in order, and whose detail says how
// many there were.
func TestFieldErrorsBounded(t *testing.T) {
	set := goodSettings()
	set.Route.MaxBodyBytes = 1 << 16
	h := newHarness(t, options{settings: fakeSettings{s: set}})
	var b strings.Builder
	b.WriteString(`{"data":1`)
	for i := range 500 {
		fmt.Fprintf(&b, `,"m%03d":0`, i)
	}
	b.WriteString("}")
	rec := h.serve(t, request{body: b.String(), cookies: []*http.Cookie{cookieFor(t, adaClaims)}})
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status %d: %.300s", rec.Code, rec.Body)
	}
	p := decodeProblem(t, rec)
	if p.Errors == nil || len(*p.Errors) != 20 {
		t.Fatalf("%d field errors, want the first 20: %.300s", len(*p.Errors), rec.Body)
	}
	if (*p.Errors)[0].Pointer != "/m000" || p.Detail == nil || !strings.Contains(*p.Detail, "500") {
		t.Errorf("first error %+v, detail %q: want /m000 and the count", (*p.Errors)[0], *p.Detail)
	}
}
