package spool_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/events"
	"github.com/routeapi/routeapi/internal/rawjson"
	"github.com/routeapi/routeapi/internal/settings"
	"github.com/routeapi/routeapi/internal/spool"
	"github.com/routeapi/routeapi/internal/testkit/pgtest"
	"github.com/routeapi/routeapi/internal/user"
)

// acceptedData is data at the edges of what the route accepts
// (rawjson.Check): every spool must store, dead-letter and give back its
// events byte for byte, so a 202 never turns into a spool error.
var acceptedData = []string{
	`"\u0000"`, `"a\u0000b\u001f"`, `"😀 \ud83d\ude00 é \u00e9 <&> \u2028 ` + "\u2028\u2029" + `"`, `"\\\"\/"`,
	`[-0, 1.0, 1E2, 5e-324, 1.7976931348623157e308, 9007199254740992, 9007199254740994]`,
	`{"": {"_inngest": null}, "a": {"a": [true, false]}}`,
	strings.Repeat("[", settings.MaxDataDepth) + strings.Repeat("]", settings.MaxDataDepth),
	`"` + strings.Repeat("ü", 100_000) + `"`,
}

func acceptedEvents(t *testing.T) []spool.Record {
	t.Helper()
	s := settings.Settings{Route: settings.Route{Event: "app/route.requested"}, Public: map[string]any{"appName": "t"}}
	var recs []spool.Record
	for i, d := range acceptedData {
		if _, err := rawjson.Check([]byte(d), settings.MaxDataDepth); err != nil {
			t.Fatalf("test data %.40s is not accepted: %v", d, err)
		}
		ev, err := events.Build(s.Route.Event, s.Public, user.User{ID: "u", Name: "Zoë"}, events.Request{Data: json.RawMessage(d), RequestID: "r"}, t0)
		if err != nil {
			t.Fatal(err)
		}
		enc, err := events.Encode(ev)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, spool.Record{EventID: fmt.Sprintf("acc-%d", i), Event: enc, EnqueuedAt: t0, NextAt: t0})
	}
	return recs
}

func roundTrip(t *testing.T, s spool.Spool) {
	t.Helper()
	ctx := context.Background()
	recs := acceptedEvents(t)
	if err := s.Put(ctx, recs); err != nil {
		t.Fatalf("Put: %v", err)
	}
	got, err := s.Claim(ctx, t0, len(recs), time.Minute)
	if err != nil || len(got) != len(recs) {
		t.Fatalf("Claim = %d records, %v", len(got), err)
	}
	want := map[string][]byte{}
	for _, r := range recs {
		want[r.EventID] = r.Event
	}
	same := func(what string, got []spool.Record) {
		for _, r := range got {
			if !bytes.Equal(r.Event, want[r.EventID]) {
				t.Fatalf("%s: event %s changed:\n%.200s\nwant\n%.200s", what, r.EventID, r.Event, want[r.EventID])
			}
		}
	}
	same("Claim", got)
	if err := s.Bury(ctx, got, "test"); err != nil {
		t.Fatalf("Bury: %v", err)
	}
	dead, err := s.DeadLetters(ctx, len(recs))
	if err != nil || len(dead) != len(recs) {
		t.Fatalf("DeadLetters = %d, %v", len(dead), err)
	}
	same("DeadLetters", dead)
	if n, err := s.Replay(ctx, t0); err != nil || n != len(recs) {
		t.Fatalf("Replay = %d, %v", n, err)
	}
	again, err := s.Claim(ctx, t0, len(recs), time.Minute)
	if err != nil || len(again) != len(recs) {
		t.Fatalf("Claim after Replay = %d, %v", len(again), err)
	}
	same("Claim after Replay", again)
	array := []byte{'['} // the Event API request's body: "[", the events joined by ",", "]"
	for i, r := range again {
		if i > 0 {
			array = append(array, ',')
		}
		array = append(array, r.Event...)
	}
	array = append(array, ']')
	if !json.Valid(array) {
		t.Fatal("the batch of accepted events is not valid JSON")
	}
}

func TestBoltKeepsAcceptedEvents(t *testing.T) {
	s, err := spool.OpenBolt(t.TempDir(), 0, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	roundTrip(t, s)
}

func TestPostgresKeepsAcceptedEvents(t *testing.T) {
	pg := pgtest.Start(t)
	s, err := spool.OpenPostgres(context.Background(), pg.URL, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	roundTrip(t, s)
}
