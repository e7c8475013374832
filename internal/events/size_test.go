package events_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/events"
	"github.com/routeapi/routeapi/internal/settings"
	"github.com/routeapi/routeapi/internal/user"
)

// TestEnvelopeBytes: settings.EnvelopeBytes (which the settings check at
// load without building events) is exactly the encoded size of the smallest
// event minus its data, for several names and public settings.
func TestEnvelopeBytes(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	for _, s := range []settings.Settings{
		{Route: settings.Route{Event: "app/route.requested"}, Public: map[string]any{}},
		{Route: settings.Route{Event: "shop/<order>&\"placed\""}, Public: map[string]any{"a": "<b>", "n": 1.5, "l": []any{1, "x", nil}}},
		{Route: settings.Route{Event: strings.Repeat("e", 255)}, Public: map[string]any{"big": strings.Repeat("é", 1000)}},
	} {
		for _, data := range []string{`0`, `"x"`, `{"a": [1, 2]}`, `"` + strings.Repeat("y", 5000) + `"`} {
			ev, err := events.Build(s.Route.Event, s.Public, user.User{ID: "u"}, events.Request{Data: json.RawMessage(data), RequestID: "r"}, now)
			if err != nil {
				t.Fatal(err)
			}
			enc, err := events.Encode(ev)
			if err != nil {
				t.Fatal(err)
			}
			compact, _ := json.Marshal(json.RawMessage(data))
			if got, want := int64(len(enc)-len(compact)), settings.EnvelopeBytes(s); got != want {
				t.Fatalf("event %s: envelope %d bytes, settings.EnvelopeBytes says %d", enc[:80], got, want)
			}
		}
	}
}
