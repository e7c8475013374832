package api

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/routeapi/routeapi/gen"
	"github.com/routeapi/routeapi/internal/session"
)

// BenchmarkValidation measures the request checks alone, as mounted for
// POST /api/route: content coding, body limit, fenceBody, the kin-openapi validator
// (content type, credential present, Idempotency-Key, body schema) and the
// one-JSON-value check, by payload size.
func BenchmarkValidation(b *testing.B) {
	spec, err := gen.GetSpec()
	if err != nil {
		b.Fatal(err)
	}
	validate := validator(spec, session.CookieNames(false))
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	r := chi.NewRouter()
	r.With(contentCoding, limitBody(func(*http.Request) int64 { return 1 << 20 }), fenceBody(true), validate, oneJSONValue).Post(routePath, ok)
	var h http.Handler = r
	for _, size := range []int{16, 1 << 10, 64 << 10} {
		b.Run(fmt.Sprintf("data=%dB", size), func(b *testing.B) {
			body := `{"data":"` + strings.Repeat("x", size) + `"}`
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/api/route", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Idempotency-Key", "order-123")
				req.AddCookie(&http.Cookie{Name: session.CookieName, Value: "x"})
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusNoContent {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
