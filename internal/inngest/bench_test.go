package inngest_test

import (
	"encoding/json"
	"io"
	"testing"

	"github.com/routeapi/routeapi/internal/events"
	"github.com/routeapi/routeapi/internal/inngest"
)

// BenchmarkBatchBody measures the body of one Event API request of 100
// encoded events as Client.Send makes it: built (batchBody) and read to its
// end as the transport reads it (io.Copy, through its WriteTo), into
// io.Discard so that nothing of a network is measured.
func BenchmarkBatchBody(b *testing.B) {
	e, _ := events.Build(testSettings.Route.Event, testSettings.Public, testUser, events.Request{Data: json.RawMessage(`{"n":1}`)}, testNow)
	one, _ := events.Encode(e)
	batch := make([]json.RawMessage, 100)
	for i := range batch {
		batch[i] = one
	}
	b.SetBytes(int64(100 * len(one)))
	b.ReportAllocs()
	for b.Loop() {
		body, n := inngest.BatchBody(batch)
		if got, err := io.Copy(io.Discard, body()); err != nil || got != n {
			b.Fatalf("read %d of %d bytes: %v", got, n, err)
		}
	}
}
