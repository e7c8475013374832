package events

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/inngest/inngestgo"

	"github.com/routeapi/routeapi/internal/user"
)

// TestWireEventIsTheSDKs checks wireEvent against the SDK's own type,
// inngestgo.GenericEvent[Data] (the oracle, linked into this test only):
// the same fields with the same JSON tags in the same order, and the same
// bytes from json.Marshal for events with and without each optional member.
func TestWireEventIsTheSDKs(t *testing.T) {
	ours, sdk := reflect.TypeFor[wireEvent](), reflect.TypeFor[inngestgo.GenericEvent[Data]]()
	if ours.NumField() != sdk.NumField() {
		t.Fatalf("wireEvent has %d fields, the SDK's %d", ours.NumField(), sdk.NumField())
	}
	for i := range ours.NumField() {
		o, s := ours.Field(i), sdk.Field(i)
		if o.Name != s.Name || o.Type != s.Type || o.Tag != s.Tag {
			t.Errorf("field %d: ours %s %s %q, the SDK's %s %s %q", i, o.Name, o.Type, o.Tag, s.Name, s.Type, s.Tag)
		}
	}
	id := "3f1c2b9a8d7e6f5a4b3c2d1e0f9a8b7c"
	data := Data{
		Data:      json.RawMessage(`{"a":[1,2.5,"<&>"],"b":null}`),
		User:      user.User{ID: "user_42", Email: "ada@example.com", Name: "Ada"},
		Settings:  map[string]any{"appName": "demo", "n": 1.5, "nested": map[string]any{"x": []any{true}}},
		RequestID: "req-1",
	}
	for _, c := range []struct {
		ours wireEvent
		sdk  inngestgo.GenericEvent[Data]
	}{
		{wireEvent{ID: &id, Name: "app/x", Data: data, Timestamp: 1764547200000}, inngestgo.GenericEvent[Data]{ID: &id, Name: "app/x", Data: data, Timestamp: 1764547200000}},
		{wireEvent{Name: "app/x", Data: Data{Data: json.RawMessage(`0`)}}, inngestgo.GenericEvent[Data]{Name: "app/x", Data: Data{Data: json.RawMessage(`0`)}}},
		{wireEvent{Name: "a", Data: data, User: map[string]any{"k": "v"}, Version: "2026-12-01.01"}, inngestgo.GenericEvent[Data]{Name: "a", Data: data, User: map[string]any{"k": "v"}, Version: "2026-12-01.01"}},
	} {
		got, err := json.Marshal(c.ours)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(c.sdk)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("wireEvent encodes as\n%s\nthe SDK's as\n%s", got, want)
		}
		if err := c.sdk.Validate(); err != nil {
			t.Errorf("the SDK refuses %s: %v", want, err)
		}
	}
	// The SDK's one refusal for this data type, which encodeParts makes too.
	if (inngestgo.GenericEvent[Data]{Data: data}).Validate() == nil {
		t.Fatal("the SDK accepts an event without a name")
	}
	if _, err := Encode(Event{ID: id, Data: data}); err == nil {
		t.Error("Encode accepted an event without a name")
	}
}
