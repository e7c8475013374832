package api_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// BenchmarkPostRouteIdempotency measures one POST /api/route through the
// whole handler with a real bbolt idempotency store in a temporary
// directory (fsync'd commits, as in production) and a publisher that
// answers at once: without a key (the store is not touched), with a new key
// per request (a reservation and a completion: two bbolt commits), and the
// same key again (a replay: one read).
func BenchmarkPostRouteIdempotency(b *testing.B) {
	const body = `{"data":{"orderId":"ord_123","items":2}}`
	for _, mode := range []string{"no-key", "new-key", "replay"} {
		b.Run(mode, func(b *testing.B) {
			_, st := boltStore(b)
			pub := &gatePublisher{}
			h := newHarness(b, options{discardLogs: true, settings: fakeSettings{s: benchSettings()}, idem: st, publisher: pub})
			cookie := cookieFor(b, adaClaims)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/api/route", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.AddCookie(cookie)
				switch mode {
				case "new-key":
					req.Header.Set("Idempotency-Key", "bench-"+strconv.Itoa(i))
				case "replay":
					req.Header.Set("Idempotency-Key", "bench-replay")
				}
				i++
				rec := httptest.NewRecorder()
				h.handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
				pub.set(func(p *gatePublisher) { p.events = p.events[:0] })
			}
		})
	}
}

// BenchmarkPostRouteIdempotencyParallel is the new-key case with requests
// in parallel (GOMAXPROCS goroutines × -cpu): bbolt has one writer, so
// keyed requests queue for its commits.
func BenchmarkPostRouteIdempotencyParallel(b *testing.B) {
	const body = `{"data":{"orderId":"ord_123","items":2}}`
	_, st := boltStore(b)
	pub := &gatePublisher{}
	h := newHarness(b, options{discardLogs: true, settings: fakeSettings{s: benchSettings()}, idem: st, publisher: pub})
	cookie := cookieFor(b, adaClaims)
	var n atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, "/api/route", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.AddCookie(cookie)
			req.Header.Set("Idempotency-Key", "bench-"+strconv.FormatInt(n.Add(1), 10))
			rec := httptest.NewRecorder()
			h.handler.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Errorf("status %d: %s", rec.Code, rec.Body)
				return
			}
		}
	})
}
