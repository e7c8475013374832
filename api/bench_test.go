package api_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/routeapi/routeapi/internal/settings"
)

// BenchmarkPostRoute measures one POST /api/route through the whole handler
// (request id, access log, cross-origin check, body limit, validator, strict
// server, session decode, event build) with a publisher that answers at once.
func BenchmarkPostRoute(b *testing.B) {
	for _, size := range []int{16, 1 << 10, 64 << 10} {
		b.Run(fmt.Sprintf("data=%dB", size), func(b *testing.B) {
			h := newHarness(b, options{discardLogs: true, settings: fakeSettings{s: benchSettings()}})
			body := `{"data":"` + strings.Repeat("x", size) + `"}`
			cookie := cookieFor(b, adaClaims)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/api/route", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.AddCookie(cookie)
				rec := httptest.NewRecorder()
				h.handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
				h.pub.events = h.pub.events[:0]
			}
		})
	}
}

func benchSettings() settings.Settings {
	s := goodSettings()
	s.Route.MaxBodyBytes = 256 << 10
	return s
}
