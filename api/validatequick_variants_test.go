package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/routeapi/routeapi/internal/session"
)

// TestQuickValidationRequestVariants: the request variants the fuzzers
// cannot reach (they vary the body, one Content-Type, the credential and
// the Idempotency-Key only) get the full validator's answer: the path
// written another way or with a query string, other methods, several
// Content-Type headers, several credentials at once, the key sent twice,
// a Content-Length that is not the body's.
func TestQuickValidationRequestVariants(t *testing.T) {
	c := newValidationChains(t)
	bodies := map[string]string{
		routePath:  `{"data":{"orderId":"ord_123","items":2}}`,
		eventsPath: eventsBody(contractEvents(t)[0]),
	}
	type variant struct {
		name   string
		method string
		target func(path string) string
		edit   func(r *http.Request)
	}
	same := func(p string) string { return p }
	none := func(*http.Request) {}
	variants := []variant{
		{"plain", http.MethodPost, same, none},
		{"query", http.MethodPost, func(p string) string { return p + "?x=1&data=2" }, none},
		{"trailing slash", http.MethodPost, func(p string) string { return p + "/" }, none},
		{"double slash", http.MethodPost, func(p string) string { return "/" + p }, none},
		{"escaped letter", http.MethodPost, func(p string) string { return "/api/%" + strings.ToUpper(hexOf(p[5])) + p[6:] }, none},
		{"escaped slash", http.MethodPost, func(p string) string { return strings.Replace(p, "/api/", "/api%2F", 1) }, none},
		{"upper case", http.MethodPost, strings.ToUpper, none},
		{"PUT", http.MethodPut, same, none},
		{"PATCH", http.MethodPatch, same, none},
		{"post lower", "post", same, none},
		{"two content types", http.MethodPost, same, func(r *http.Request) { r.Header.Add("Content-Type", "text/plain") }},
		{"text then json", http.MethodPost, same, func(r *http.Request) {
			r.Header["Content-Type"] = []string{"text/plain", "application/json"}
		}},
		{"empty content type first", http.MethodPost, same, func(r *http.Request) {
			r.Header["Content-Type"] = []string{"", "application/json"}
		}},
		{"charset utf-16", http.MethodPost, same, func(r *http.Request) { r.Header.Set("Content-Type", "application/json; charset=utf-16") }},
		{"tab", http.MethodPost, same, func(r *http.Request) { r.Header.Set("Content-Type", "application/json\t") }},
		{"cookie and bearer", http.MethodPost, same, func(r *http.Request) {
			r.Header.Set("Authorization", "Bearer rk_0123456789abcdef")
		}},
		{"cookie and broken bearer", http.MethodPost, same, func(r *http.Request) { r.Header.Set("Authorization", "Bearer") }},
		{"two authorizations", http.MethodPost, same, func(r *http.Request) {
			r.Header["Authorization"] = []string{"Bearer rk_0123456789abcdef", "Bearer rk_fedcba9876543210"}
		}},
		{"two cookie lines", http.MethodPost, same, func(r *http.Request) { r.Header.Add("Cookie", "a=b") }},
		{"key twice", http.MethodPost, same, func(r *http.Request) {
			r.Header["Idempotency-Key"] = []string{"k1", "k2"}
		}},
		{"key twice same", http.MethodPost, same, func(r *http.Request) {
			r.Header["Idempotency-Key"] = []string{"k1", "k1"}
		}},
		{"key empty then set", http.MethodPost, same, func(r *http.Request) {
			r.Header["Idempotency-Key"] = []string{"", "k1"}
		}},
		{"short content length", http.MethodPost, same, func(r *http.Request) { r.ContentLength = 5 }},
		{"unknown content length", http.MethodPost, same, func(r *http.Request) { r.ContentLength = -1 }},
		{"content encoding identity", http.MethodPost, same, func(r *http.Request) { r.Header.Set("Content-Encoding", "identity") }},
		{"content encoding gzip (not gzipped)", http.MethodPost, same, func(r *http.Request) { r.Header.Set("Content-Encoding", "gzip") }},
	}
	for path, body := range bodies {
		for _, v := range variants {
			t.Run(path+"/"+v.name, func(t *testing.T) {
				taken := c.sameAnswerTo(t, func() *http.Request {
					r := httptest.NewRequest(http.MethodPost, "http://example.com"+v.target(path), strings.NewReader(body))
					r.Method = v.method
					r.Header.Set("Content-Type", "application/json")
					r.AddCookie(&http.Cookie{Name: session.CookieName, Value: "x"})
					v.edit(r)
					return r
				})
				if v.name == "plain" && !taken {
					t.Fatal("quickValidation does not take the plain request: the variants test nothing")
				}
			})
		}
	}
}

// hexOf is b's two hexadecimal digits.
func hexOf(b byte) string { return string("0123456789abcdef"[b>>4]) + string("0123456789abcdef"[b&15]) }
