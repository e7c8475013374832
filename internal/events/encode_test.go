package events_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/routeapi/routeapi/internal/events"
)

// Encode copies data in (compacted), and the result is the same JSON as
// marshalling the event.
func TestEncode(t *testing.T) {
	for _, data := range []string{`"data"`, `{ "a" : [1, 2 ,"x y"], "b":"<&>" }`, `12345678901234567890`, `true`, `null`, `[ ]`, `-1.5e3`} {
		e, err := events.Build(testSettings.Route.Event, testSettings.Public, testUser, events.Request{Data: json.RawMessage(data), RequestID: "r"}, testNow)
		if data == "null" {
			if err == nil {
				t.Error("Build accepted null data")
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		got, err := events.Encode(e)
		if err != nil {
			t.Fatalf("%s: %v", data, err)
		}
		want, _ := json.Marshal(e)
		var a, b any
		if err := json.Unmarshal(got, &a); err != nil {
			t.Fatalf("%s: Encode gave invalid JSON %s: %v", data, got, err)
		}
		_ = json.Unmarshal(want, &b)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: Encode = %s, want the same JSON as %s", data, got, want)
		}
		var compact bytes.Buffer
		_ = json.Compact(&compact, []byte(data))
		if !strings.Contains(string(got), `{"data":`+compact.String()+`,"user":`) {
			t.Errorf("%s: data not copied in compacted: %s", data, got)
		}
	}
	// Only what the first byte shows: Encode trusts its caller for the rest.
	for _, bad := range []string{``, `}`, `x`} {
		e := events.Event{ID: "i", Name: "n", Data: events.Data{Data: json.RawMessage(bad)}}
		if _, err := events.Encode(e); err == nil {
			t.Errorf("Encode accepted data %q", bad)
		}
	}
}
