package delivery_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/delivery"
	"github.com/routeapi/routeapi/internal/events"
)

// instantAPI answers every request at once with one id per event, so the
// benchmarks measure routeapi's side of a send and nothing of HTTP.
type instantAPI struct{}

func (instantAPI) Send(_ context.Context, evs []json.RawMessage) ([]string, error) {
	ids := make([]string, len(evs))
	for i := range ids {
		ids[i] = "01J"
	}
	return ids, nil
}

// BenchmarkBatcherSubmit measures one publish through the batcher and the
// sender (breaker, metrics, per-request timeout) to an Event API that
// answers at once, from concurrent publishers.
func BenchmarkBatcherSubmit(b *testing.B) {
	s := delivery.NewSender(instantAPI{}, delivery.NewBreaker(5, time.Second, nil), nopMetrics{})
	bat := delivery.NewBatcher(delivery.BatcherConfig{Linger: time.Millisecond, MaxEvents: 100, MaxBytes: 1 << 20, MaxInFlight: 64, Timeout: 5 * time.Second}, s)
	defer bat.Close()
	ev := enc("e")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := bat.Submit(context.Background(), ev); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkPublish measures one Publish (encode, batcher, sender) of a
// small event to an Event API that answers at once, from concurrent
// publishers.
func BenchmarkPublish(b *testing.B) {
	s := delivery.NewSender(instantAPI{}, delivery.NewBreaker(5, time.Second, nil), nopMetrics{})
	bat := delivery.NewBatcher(delivery.BatcherConfig{Linger: time.Millisecond, MaxEvents: 100, MaxBytes: 1 << 20, MaxInFlight: 64, Timeout: 5 * time.Second}, s)
	defer bat.Close()
	p := &delivery.Publisher{Batcher: bat, Metrics: nopMetrics{}, Log: slog.New(slog.DiscardHandler), Timeout: 5 * time.Second, Now: time.Now}
	ev := encoded(event("e"))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if r, err := p.Publish(context.Background(), ev); err != nil || r.Queued {
				b.Errorf("Publish = %+v, %v", r, err)
				return
			}
		}
	})
}

// BenchmarkPublishAll10 measures PublishAll of a batch of ten small events
// (one Event API request) to an Event API that answers at once, from
// concurrent publishers.
func BenchmarkPublishAll10(b *testing.B) {
	s := delivery.NewSender(instantAPI{}, delivery.NewBreaker(5, time.Second, nil), nopMetrics{})
	bat := delivery.NewBatcher(delivery.BatcherConfig{Linger: time.Millisecond, MaxEvents: 100, MaxBytes: 1 << 20, MaxInFlight: 64, Timeout: 5 * time.Second}, s)
	defer bat.Close()
	p := &delivery.Publisher{Batcher: bat, Metrics: nopMetrics{}, Log: slog.New(slog.DiscardHandler), Timeout: 5 * time.Second, Now: time.Now}
	evs := make([]events.Encoded, 10)
	for i := range evs {
		evs[i] = encoded(event(fmt.Sprint("e", i)))
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if r, err := p.PublishAll(context.Background(), evs); err != nil || r.Queued || len(r.IDs) != len(evs) {
				b.Errorf("PublishAll = %+v, %v", r, err)
				return
			}
		}
	})
}

// BenchmarkBatcherSubmitAlone measures one publish at a time through the
// batcher and the sender to an Event API that answers at once: the latency
// the batcher adds to a lone request (no batch to join).
func BenchmarkBatcherSubmitAlone(b *testing.B) {
	s := delivery.NewSender(instantAPI{}, delivery.NewBreaker(5, time.Second, nil), nopMetrics{})
	bat := delivery.NewBatcher(delivery.BatcherConfig{Linger: time.Millisecond, MaxEvents: 100, MaxBytes: 1 << 20, MaxInFlight: 64, Timeout: 5 * time.Second}, s)
	defer bat.Close()
	ev := enc("e")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := bat.Submit(context.Background(), ev); err != nil {
			b.Fatal(err)
		}
	}
}
