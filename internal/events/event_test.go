package events_test

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/routeapi/routeapi/gen"
	"github.com/routeapi/routeapi/internal/events"
	"github.com/routeapi/routeapi/internal/settings"
	"github.com/routeapi/routeapi/internal/user"
)

var (
	testSettings = settings.Settings{
		Route:  settings.Route{Enabled: true, Event: "app/route.requested", MaxBodyBytes: 1024},
		Public: map[string]any{"appName": "Example", "limits": map[string]any{"perDay": 10}},
	}
	testUser = user.User{ID: "user_42", Email: "ada@example.com", Name: "Ada Lovelace", Image: "https://example.com/ada.png"}
	testNow  = time.UnixMilli(1795733909056)
	hex32    = regexp.MustCompile(`^[0-9a-f]{32}$`)
)

func TestBuild(t *testing.T) {
	// Big integers, trailing zeros and escapes must reach Inngest as sent,
	// not as float64 round trips.
	data := `{"orderId":"ord_123","big":12345678901234567890,"price":1.10,"tiny":1e-7,"s":"caf\u00e9"}`
	e, err := events.Build(testSettings.Route.Event, testSettings.Public, testUser, events.Request{Data: json.RawMessage(data), RequestID: "req-1"}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if e.Name != "app/route.requested" || e.Timestamp != 1795733909056 || e.Data.RequestID != "req-1" ||
		e.Data.User != testUser || !reflect.DeepEqual(e.Data.Settings, testSettings.Public) || string(e.Data.Data) != data {
		t.Fatalf("Build = %+v", e)
	}
	if !hex32.MatchString(e.ID) {
		t.Errorf("ID %q is not 32 lower-case hex characters", e.ID)
	}

	out, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"data":`+data+`,`) {
		t.Errorf("marshalled event does not carry data unchanged:\n%s\nwant data %s", out, data)
	}
	var back struct {
		ID   string `json:"id"`
		TS   json.Number
		Data struct {
			User     map[string]any `json:"user"`
			Settings map[string]any `json:"settings"`
		} `json:"data"`
	}
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatal(err)
	}
	if back.ID != e.ID || back.TS != "1795733909056" {
		t.Errorf("marshalled id %q, ts %q", back.ID, back.TS)
	}
	if want := map[string]any{"id": "user_42", "email": "ada@example.com", "name": "Ada Lovelace", "image": "https://example.com/ada.png"}; !reflect.DeepEqual(back.Data.User, want) {
		t.Errorf("marshalled user %v, want %v", back.Data.User, want)
	}
}

// TestBuildPrincipalKinds: an API token's events never share ids with a
// user, whatever the user's id spells: not the user with the token's id, and
// not the user whose id is "apitoken:<token id>" (what a string prefix
// scheme would collide with); without a kind the principal is a user.
func TestBuildPrincipalKinds(t *testing.T) {
	build := func(kind, id string) string {
		e, err := events.Build(testSettings.Route.Event, testSettings.Public, user.User{ID: id},
			events.Request{Data: json.RawMessage(`1`), IdempotencyKey: "k1", PrincipalKind: kind}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		return e.ID
	}
	asToken := build(events.KindAPIToken, "svc-billing")
	if asToken != build(events.KindAPIToken, "svc-billing") {
		t.Errorf("API token id %s is not stable", asToken)
	}
	for _, u := range []string{"svc-billing", "apitoken:svc-billing", "apitoken", "apitokensvc-billing"} {
		if asUser := build("", u); asUser == asToken {
			t.Errorf("user %q has the API token's event id %s", u, asToken)
		}
		if build("", u) != build(events.KindUser, u) || build("", u) != events.EventID(events.KindUser, u, "k1") {
			t.Errorf("user %q: no kind must mean a user", u)
		}
	}
	// Kinds are apart from each other, not just from users.
	if events.EventID("a", "b", "k") == events.EventID("a b", "", "k") || events.EventID("x", "1", "k") == events.EventID("y", "1", "k") {
		t.Error("two kinds share an event id")
	}
}

func TestBuildNilPublicIsAnEmptyObject(t *testing.T) {
	s := testSettings
	s.Public = nil
	e, err := events.Build(s.Route.Event, s.Public, user.User{ID: "u1"}, events.Request{Data: json.RawMessage(`"data"`)}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(e)
	if !strings.Contains(string(out), `"settings":{}`) || !strings.Contains(string(out), `"user":{"id":"u1"}`) {
		t.Errorf("marshalled event %s: want settings {} and a user with only its id", out)
	}
}

func TestBuildErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		u    user.User
		data string
	}{
		{"no data", testUser, ""},
		{"null data", testUser, "null"},
		{"user without id", user.User{Email: "a@b.c"}, `"x"`},
	} {
		if e, err := events.Build(testSettings.Route.Event, testSettings.Public, tc.u, events.Request{Data: json.RawMessage(tc.data)}, testNow); err == nil {
			t.Errorf("%s: Build = %+v, want an error", tc.name, e)
		}
	}
}

func TestEventID(t *testing.T) {
	id := events.EventID(events.KindUser, "user_42", "key-1")
	if !hex32.MatchString(id) {
		t.Fatalf("EventID = %q, want 32 lower-case hex characters", id)
	}
	// The id must stay the same across versions and restarts, or a retry
	// sent across a deploy would be published twice. This pins the algorithm:
	// the first 16 bytes of SHA-256 over the length-prefixed (uint64 BE)
	// parts "routeapi event id v1", user id, key (checked with Python's hashlib).
	if want := "f0601210ef9b271b989f5d523569a00b"; id != want {
		t.Errorf("EventID(user_42, key-1) = %q, want %q", id, want)
	}
	if again := events.EventID(events.KindUser, "user_42", "key-1"); again != id {
		t.Errorf("EventID is not deterministic: %q then %q", id, again)
	}
	for _, other := range [][2]string{
		{"user_43", "key-1"},
		{"user_42", "key-2"},
		{"user_42key-1", ""},
		{"user_4", "2key-1"}, // length-prefixed: no concatenation collisions
		{"user_42", ""},
	} {
		if got := events.EventID(events.KindUser, other[0], other[1]); got == id {
			t.Errorf("EventID(%q, %q) = %q, same as for (user_42, key-1)", other[0], other[1], got)
		}
	}

	seen := map[string]bool{}
	for range 100 {
		r := events.EventID(events.KindUser, "user_42", "")
		if !hex32.MatchString(r) || seen[r] {
			t.Fatalf("random EventID %q: not 32 hex characters or repeated", r)
		}
		seen[r] = true
	}

	a, _ := events.Build(testSettings.Route.Event, testSettings.Public, testUser, events.Request{Data: json.RawMessage(`1`), IdempotencyKey: "key-1"}, testNow)
	b, _ := events.Build(testSettings.Route.Event, testSettings.Public, testUser, events.Request{Data: json.RawMessage(`2`), IdempotencyKey: "key-1"}, testNow.Add(time.Hour))
	if a.ID != id || b.ID != id {
		t.Errorf("Build with an idempotency key: ids %q, %q; want EventID's %q", a.ID, b.ID, id)
	}
}

func routeEventSchema(t *testing.T) *openapi3.Schema {
	t.Helper()
	spec, err := gen.GetSpec()
	if err != nil {
		t.Fatal(err)
	}
	ref := spec.Components.Schemas["RouteEvent"]
	if ref == nil || ref.Value == nil {
		t.Fatal("openapi.yaml has no RouteEvent schema")
	}
	return ref.Value
}

// TestEventMatchesSpec checks the published event against the RouteEvent
// schema of openapi.yaml, which Inngest functions rely on.
func TestEventMatchesSpec(t *testing.T) {
	schema := routeEventSchema(t)
	validate := func(e events.Event) error {
		out, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatal(err)
		}
		return schema.VisitJSON(v)
	}
	for _, tc := range []struct {
		name string
		u    user.User
		data string
		key  string
	}{
		{"string data, full user", testUser, `"data"`, ""},
		{"object data with a big integer", testUser, `{"orderId":"ord_123","n":12345678901234567890}`, "k"},
		{"array data, user with only an id", user.User{ID: "u1"}, `[1,2,3]`, ""},
		{"number data", testUser, `42`, ""},
		{"false", testUser, `false`, ""},
	} {
		e, err := events.Build(testSettings.Route.Event, testSettings.Public, tc.u, events.Request{Data: json.RawMessage(tc.data), IdempotencyKey: tc.key, RequestID: "req-1"}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if err := validate(e); err != nil {
			t.Errorf("%s: event does not match RouteEvent: %v", tc.name, err)
		}
	}

	// The schema check itself must be able to fail.
	e, err := events.Build(testSettings.Route.Event, testSettings.Public, testUser, events.Request{Data: json.RawMessage(`1`)}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(e)
	var v map[string]any
	_ = json.Unmarshal(out, &v)
	v["extra"] = true
	if err := schema.VisitJSON(v); err == nil {
		t.Error("RouteEvent accepted an extra property; the schema check proves nothing")
	}
}

func TestKeyedEventID(t *testing.T) {
	end := time.Date(2001, 2, 4, 4, 5, 6, 789_000, time.UTC)
	id := events.KeyedEventID(events.KindUser, "user_42", "key-1", end)
	if !hex32.MatchString(id) {
		t.Fatalf("KeyedEventID = %q, want 32 lower-case hex characters", id)
	}
	// The same window read back from a store (bolt keeps nanoseconds,
	// PostgreSQL microseconds) gives the same id.
	if again := events.KeyedEventID(events.KindUser, "user_42", "key-1", end.Add(999*time.Nanosecond)); again != id {
		t.Errorf("KeyedEventID differs below a microsecond: %q then %q", id, again)
	}
	for name, other := range map[string]string{
		"another window": events.KeyedEventID(events.KindUser, "user_42", "key-1", end.Add(time.Microsecond)),
		"another key":    events.KeyedEventID(events.KindUser, "user_42", "key-2", end),
		"another user":   events.KeyedEventID(events.KindUser, "user_43", "key-1", end),
		"another kind":   events.KeyedEventID("apitoken", "user_42", "key-1", end),
		"unwindowed":     events.EventID(events.KindUser, "user_42", "key-1"),
	} {
		if other == id {
			t.Errorf("%s: the same id %q", name, id)
		}
	}
}
