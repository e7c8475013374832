package api_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
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
			benchPost(b, h, "/api/route", body, cookie)
		})
	}
}

// benchPost measures POST path with body and cookie through h's whole
// handler, each answer a 200, forgetting what the publisher received.
func benchPost(b *testing.B, h *harness, path, body string, cookie *http.Cookie) {
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.AddCookie(cookie)
		rec := httptest.NewRecorder()
		h.handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		h.pub.mu.Lock()
		h.pub.events = h.pub.events[:0]
		h.pub.mu.Unlock()
	}
}

func benchSettings() settings.Settings {
	s := goodSettings()
	s.Route.MaxBodyBytes = 256 << 10
	return s
}

// BenchmarkSendEvents measures one POST /api/events through the whole
// handler (as BenchmarkPostRoute: request id, logs, cross-origin check, body
// limit, the validator with each event's catalogue schema, the acceptance
// rules, session, one event built per catalogue event) with a publisher that
// answers at once, for a batch of one and of ten events whose data is 1 KiB
// each (orders and feedback alternating, every constraint exercised).
func BenchmarkSendEvents(b *testing.B) {
	for _, n := range []int{1, 10} {
		b.Run(fmt.Sprintf("events=%d/data=1KiB", n), func(b *testing.B) {
			h := newHarness(b, options{discardLogs: true, settings: fakeSettings{s: benchSettings()}})
			body := sendEventsBenchBody(n, 1<<10)
			cookie := cookieFor(b, adaClaims)
			benchPost(b, h, "/api/events", body, cookie)
		})
	}
}

// sendEventsBenchBody is a SendEventsRequest of n catalogue events whose
// data are each exactly size bytes: shop/order.placed (order lines) at even
// indexes, app/feedback.submitted (a comment) at odd ones.
func sendEventsBenchBody(n, size int) string {
	order := func() string {
		head := `{"orderId":"ord_8f2k1","currency":"EUR","total":59.8,"placedAt":"2026-11-30T21:04:05Z","items":[`
		line := func(sku string) string { return `{"sku":"` + sku + `","quantity":2,"unitPrice":29.9}` }
		// Lines of 13-letter SKUs while one more still leaves room for a
		// last line whose SKU (1 to 64 letters) makes the size exact.
		var lines []string
		used := func() int { return len(head) + len(strings.Join(lines, ",")) + len(`,]}`) + len(line("")) }
		for used()+len(line("mug-blue-0000"))+1+13 <= size {
			lines = append(lines, line(fmt.Sprintf("mug-blue-%04d", len(lines))))
		}
		lines = append(lines, line(strings.Repeat("s", size-used())))
		return head + strings.Join(lines, ",") + `]}`
	}()
	feedback := func() string {
		head, tail := `{"rating":4,"email":"ada@example.com","page":{"path":"/checkout","title":"Checkout"},"tags":["praise"],"comment":"`, `"}`
		return head + strings.Repeat("c", size-len(head)-len(tail)) + tail
	}()
	events := make([]string, n)
	for i := range events {
		if i%2 == 0 {
			events[i] = `{"name":"shop/order.placed","data":` + order + `}`
		} else {
			events[i] = `{"name":"app/feedback.submitted","data":` + feedback + `}`
		}
	}
	return `{"events":[` + strings.Join(events, ",") + `]}`
}
