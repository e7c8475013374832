package api_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/routeapi/routeapi/api"
	"github.com/routeapi/routeapi/internal/session"
	"github.com/routeapi/routeapi/internal/sessioncache"
	"github.com/routeapi/routeapi/internal/settings"
)

// BenchmarkPostRoute measures one POST /api/route through the whole handler
// (request id, access log, cross-origin check, body limit, validator, strict
// server, session decode, event build) with a publisher that answers at once.
func BenchmarkPostRoute(b *testing.B) {
	benchPostRoute(b, nil)
}

// BenchmarkPostRouteSessionCache is BenchmarkPostRoute with the session
// cache the service puts in front of the JWT resolver (every request after
// the first is a cache hit, as for a busy caller).
func BenchmarkPostRouteSessionCache(b *testing.B) {
	r, err := session.NewJWT(session.JWTConfig{Format: session.FormatV4, V4Secret: testSecret, Now: func() time.Time { return testNow }})
	if err != nil {
		b.Fatal(err)
	}
	c, err := sessioncache.New(r, sessioncache.Config{TTL: 5 * time.Second, Now: func() time.Time { return testNow }})
	if err != nil {
		b.Fatal(err)
	}
	benchPostRoute(b, c)
}

func benchPostRoute(b *testing.B, sessions api.SessionResolver) {
	for _, size := range []int{16, 1 << 10, 64 << 10} {
		b.Run(fmt.Sprintf("data=%dB", size), func(b *testing.B) {
			h := newHarness(b, options{discardLogs: true, settings: fakeSettings{s: benchSettings()}, sessions: sessions})
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

// BenchmarkSendEvents measures one POST /api/events through the whole
// handler (as BenchmarkPostRoute) with one and with ten catalogue events of
// about 1 KiB each (app/feedback.submitted with a comment), validated as
// sent against their schema; the publisher answers at once.
func BenchmarkSendEvents(b *testing.B) {
	one := `{"rating":4,"comment":"` + strings.Repeat("x", 960) + `","email":"ada@example.com","page":{"path":"/checkout","title":"Checkout"},"tags":["praise"]}`
	for _, n := range []int{1, 10} {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			h := newHarness(b, options{discardLogs: true, settings: fakeSettings{s: benchSettings()}})
			body := batch(slices.Repeat([]string{feedbackName, one}, n)...)
			cookie := cookieFor(b, adaClaims)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/api/events", strings.NewReader(body))
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
