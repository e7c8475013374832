package events_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/routeapi/routeapi/internal/events"
)

// BenchmarkBuild measures building one event (id, settings, user, data).
func BenchmarkBuild(b *testing.B) {
	data := json.RawMessage(`{"orderId":"ord_123","items":2}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := events.Build(testSettings.Route.Event, testSettings.Public, testUser, events.Request{Data: data, RequestID: "req-1"}, testNow); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncode measures encoding one event for the Event API, by data size.
func BenchmarkEncode(b *testing.B) {
	for _, size := range []int{16, 1 << 10, 64 << 10, -64 << 10} {
		name, data := fmt.Sprintf("data=%dB", size), json.RawMessage(`"`+strings.Repeat("x", max(size, 0))+`"`)
		if size < 0 { // text: spaces inside the string
			size = -size
			name, data = fmt.Sprintf("text=%dB", size), json.RawMessage(`"`+strings.Repeat("lorem ipsum ", size/12)+`"`)
		}
		b.Run(name, func(b *testing.B) {
			e, err := events.Build(testSettings.Route.Event, testSettings.Public, testUser, events.Request{Data: data, RequestID: "req-1"}, testNow)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := events.Encode(e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
