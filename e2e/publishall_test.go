package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/delivery"
	"github.com/routeapi/routeapi/internal/events"
	inngestapi "github.com/routeapi/routeapi/internal/inngest"
	"github.com/routeapi/routeapi/internal/spool"
	"github.com/routeapi/routeapi/internal/user"
)

type nopDeliveryMetrics struct{}

func (nopDeliveryMetrics) Sent(int, time.Duration, error) {}
func (nopDeliveryMetrics) Spooled(string, int)            {}
func (nopDeliveryMetrics) Delivered(int)                  {}
func (nopDeliveryMetrics) DeadLettered(int)               {}

// TestPublishAllDevServer: delivery.Publisher.PublishAll against the real
// Inngest dev server. A sendEvents batch goes as one request (larger than
// the batcher's MaxEvents and MaxBytes), Receipt.IDs are the dev server's
// internal ids of the events in order, and each event arrives with its id
// and data unchanged. A batch with an event the Event API refuses (a name
// reserved for Inngest) is refused whole (400), sent again event by event:
// the refused one is in the dead letters, the others arrive with their ids.
func TestPublishAllDevServer(t *testing.T) {
	dev := startInngest(t)
	c, err := inngestapi.NewClient(inngestapi.ClientConfig{EventKey: "e2e-key", BaseURL: dev.URL, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := spool.OpenBolt(t.TempDir(), 0, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sp.Close() })
	s := delivery.NewSender(c, delivery.NewBreaker(5, time.Second, nil), nopDeliveryMetrics{})
	bat := delivery.NewBatcher(delivery.BatcherConfig{Linger: time.Millisecond, MaxEvents: 2, MaxBytes: 1024, MaxInFlight: 2, Timeout: 10 * time.Second}, s)
	t.Cleanup(bat.Close)
	pub := &delivery.Publisher{Batcher: bat, Spool: sp, Metrics: nopDeliveryMetrics{}, Log: slog.New(slog.DiscardHandler), Timeout: 10 * time.Second, Now: time.Now}

	name := "e2e/batch." + randomSuffix()
	u := user.User{ID: "user_42", Email: "ada@example.com"}
	end := time.Now().Add(24 * time.Hour)
	key := "batch-" + randomSuffix()
	build := func(names []string, data []string) []events.Encoded {
		evs := make([]events.Encoded, len(names))
		for i := range names {
			e, err := events.Build(names[i], map[string]any{"appName": "e2e"}, u,
				events.Request{Data: json.RawMessage(data[i]), RequestID: "req-" + key, PrincipalKind: events.KindUser}, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			e.ID = events.BatchEventID(events.KindUser, u.ID, key, end, i)
			if evs[i], err = events.EncodeEvent(e); err != nil {
				t.Fatal(err)
			}
		}
		return evs
	}
	// Data the dev server keeps as sent (what internal/rawjson accepts: no
	// number it would respell), escapes, nesting, and enough bytes that the
	// three events exceed MaxBytes.
	pad := fmt.Sprintf("%0700d", 0)
	data := []string{
		`{"orderId":"ord_1","total":1234567,"pad":"` + pad + `"}`,
		`{"text":"caf\u00e9 <b>&</b>","tags":["a","b"],"pad":"` + pad + `"}`,
		`{"nested":{"list":[1,2.5,null,true]},"pad":"` + pad + `"}`,
	}
	evs := build([]string{name, name, name}, data)
	r, err := pub.PublishAll(context.Background(), evs)
	if err != nil || r.Queued || len(r.IDs) != 3 {
		t.Fatalf("PublishAll = %+v, %v; want Inngest's 3 ids", r, err)
	}
	received := dev.waitEvents(t, name, 3)
	for i, e := range evs {
		var ev *receivedEvent
		for j := range received {
			if received[j].ID == e.ID {
				ev = &received[j]
			}
		}
		if ev == nil {
			t.Fatalf("event %d (%s) not received", i, e.ID)
		}
		if ev.InternalID != r.IDs[i] {
			t.Errorf("event %d: receipt id %s, Inngest's %s", i, r.IDs[i], ev.InternalID)
		}
		var d eventData
		if err := json.Unmarshal(ev.Data, &d); err != nil {
			t.Fatal(err)
		}
		if !jsonEqual(t, d.Data, data[i]) || d.User["id"] != "user_42" || d.RequestID != "req-"+key {
			t.Errorf("event %d arrived as %s", i, ev.Data)
		}
	}

	// One event Inngest refuses.
	key = "refused-" + randomSuffix()
	evs = build([]string{name, "inngest/reserved", name}, []string{`{"n":1}`, `{"n":2}`, `{"n":3}`})
	r, err = pub.PublishAll(context.Background(), evs)
	if err != nil || !r.Queued {
		t.Fatalf("PublishAll with a refused event = %+v, %v; want queued", r, err)
	}
	st, err := sp.Stats(context.Background())
	if err != nil || st.Dead != 1 || st.Depth != 0 {
		t.Fatalf("spool %+v, %v; want the refused event dead and nothing waiting", st, err)
	}
	dead, err := sp.DeadLetters(context.Background(), 10)
	if err != nil || len(dead) != 1 || dead[0].EventID != evs[1].ID {
		t.Fatalf("dead letters %+v, %v; want event 1", dead, err)
	}
	received = dev.waitEvents(t, name, 5)
	var ids []string
	for _, ev := range received {
		ids = append(ids, ev.ID)
	}
	for _, i := range []int{0, 2} {
		if !slices.Contains(ids, evs[i].ID) {
			t.Errorf("event %d (%s) not received; got %v", i, evs[i].ID, ids)
		}
	}
}
