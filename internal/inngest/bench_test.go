package inngest_test

import (
	"encoding/json"
	"testing"

	"github.com/routeapi/routeapi/internal/events"
	"github.com/routeapi/routeapi/internal/inngest"
)

// BenchmarkEncodeBatch measures joining 100 encoded events into one request body.
func BenchmarkEncodeBatch(b *testing.B) {
	e, _ := events.Build(testSettings.Route.Event, testSettings.Public, testUser, events.Request{Data: json.RawMessage(`{"n":1}`)}, testNow)
	one, _ := events.Encode(e)
	batch := make([]json.RawMessage, 100)
	for i := range batch {
		batch[i] = one
	}
	b.SetBytes(int64(100 * len(one)))
	b.ReportAllocs()
	for b.Loop() {
		_ = inngest.EncodeBatch(batch)
	}
}
