package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/routeapi/routeapi/api"
	"github.com/routeapi/routeapi/gen"
	"github.com/routeapi/routeapi/internal/events"
	"github.com/routeapi/routeapi/internal/idempotency"
	"github.com/routeapi/routeapi/internal/settings"
	"github.com/routeapi/routeapi/internal/user"
)

// eventsSettings are goodSettings with room for batches.
func eventsSettings() settings.Settings {
	s := goodSettings()
	s.Route.MaxBodyBytes = 256 << 10
	return s
}

// postEvents is a POST /api/events of body as Ada.
func postEvents(t testing.TB, body string) request {
	return request{path: "/api/events", body: body, cookies: []*http.Cookie{cookieFor(t, adaClaims)}}
}

// batch is a body of the events given as name and data JSON, in pairs.
func batch(pairs ...string) string {
	var b strings.Builder
	b.WriteString(`{"events":[`)
	for i := 0; i+1 < len(pairs); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"name":%q,"data":%s}`, pairs[i], pairs[i+1])
	}
	b.WriteString(`]}`)
	return b.String()
}

const (
	orderName    = "shop/order.placed"
	feedbackName = "app/feedback.submitted"
	order        = `{"orderId":"ord_1","currency":"EUR","total":10,"items":[{"sku":"mug","quantity":1,"unitPrice":10}]}`
	feedback     = `{"rating":4,"page":{"path":"/checkout"}}`
)

// sendResponse is the 200 or 202 body of POST /api/events.
type sendResponse struct {
	Success  string   `json:"success"`
	EventIDs []string `json:"eventIds"`
	IDs      []string `json:"ids"`
	Queued   bool     `json:"queued"`
}

func decodeSend(t *testing.T, rec *httptest.ResponseRecorder) sendResponse {
	t.Helper()
	var r sendResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
		t.Fatalf("decode %s: %v", rec.Body, err)
	}
	return r
}

// pointers are the problem's field error pointers, in order.
func pointers(t *testing.T, rec *httptest.ResponseRecorder) []string {
	t.Helper()
	p := decodeProblem(t, rec)
	var out []string
	if p.Errors != nil {
		for _, e := range *p.Errors {
			if e.Detail == "" {
				t.Errorf("field error %s without detail", e.Pointer)
			}
			out = append(out, e.Pointer)
		}
	}
	return out
}

// catalogueEvent is one event of the contract's catalogue: its name and
// its data schema.
type catalogueEvent struct {
	name string
	data *openapi3.Schema
}

// catalogue reads the catalogue from the embedded contract: every name of
// the discriminator mapping with the data schema it maps to.
func catalogue(t *testing.T) []catalogueEvent {
	t.Helper()
	spec, err := gen.GetSpec()
	if err != nil {
		t.Fatal(err)
	}
	names, err := api.CatalogueNames()
	if err != nil || len(names) == 0 {
		t.Fatalf("CatalogueNames = %v, %v", names, err)
	}
	union := spec.Components.Schemas["CatalogueEvent"].Value
	var out []catalogueEvent
	for _, name := range names {
		ref := union.Discriminator.Mapping[name]
		var ev *openapi3.SchemaRef
		for _, one := range union.OneOf {
			if one.Ref == ref.Ref {
				ev = one
			}
		}
		if ev == nil {
			t.Fatalf("catalogue event %s: mapping %s is not in the oneOf", name, ref.Ref)
		}
		data := ev.Value.Properties["data"]
		if data == nil || data.Value == nil {
			t.Fatalf("catalogue event %s has no data schema", name)
		}
		out = append(out, catalogueEvent{name: name, data: data.Value})
	}
	return out
}

// TestCatalogueExamples is driven by the contract alone: for every event of
// the catalogue, its data schema's example is published (200) byte for byte
// as sent, also indented; the example without each required member, and
// with a member the schema does not allow, is refused at that member. A new
// catalogue event is tested here without new Go code.
func TestCatalogueExamples(t *testing.T) {
	for _, ev := range catalogue(t) {
		t.Run(ev.name, func(t *testing.T) {
			if ev.data.Example == nil {
				t.Fatalf("the data schema of %s has no example (Swagger UI shows it, and this test sends it)", ev.name)
			}
			compact, err := json.Marshal(ev.data.Example)
			if err != nil {
				t.Fatal(err)
			}
			var indented bytes.Buffer
			if err := json.Indent(&indented, compact, "", "  "); err != nil {
				t.Fatal(err)
			}
			for _, data := range []string{string(compact), indented.String()} {
				h := newHarness(t, options{settings: fakeSettings{s: eventsSettings()}})
				rec := h.serve(t, postEvents(t, batch(ev.name, data)))
				if rec.Code != 200 {
					t.Fatalf("the example of %s: %d %s", ev.name, rec.Code, rec.Body)
				}
				if len(h.pub.events) != 1 || h.pub.events[0].Name != ev.name || string(h.pub.events[0].Data.Data) != data {
					t.Fatalf("published %+v, want %s with data %s as sent", h.pub.events, ev.name, data)
				}
			}

			h := newHarness(t, options{settings: fakeSettings{s: eventsSettings()}})
			for _, req := range ev.data.Required {
				var m map[string]any
				if err := json.Unmarshal(compact, &m); err != nil {
					t.Fatal(err)
				}
				delete(m, req)
				b, _ := json.Marshal(m)
				rec := h.serve(t, postEvents(t, batch(ev.name, string(b))))
				if got := pointers(t, rec); rec.Code != 400 || !slices.Equal(got, []string{"/events/0/data/" + req}) {
					t.Errorf("without %s: %d %v, want 400 at /events/0/data/%s", req, rec.Code, got, req)
				}
			}
			if ap := ev.data.AdditionalProperties.Has; ap != nil && !*ap {
				extra := strings.Replace(string(compact), "{", `{"zzNotInTheSchema":1,`, 1)
				rec := h.serve(t, postEvents(t, batch(ev.name, extra)))
				if got := pointers(t, rec); rec.Code != 400 || !slices.Equal(got, []string{"/events/0/data/zzNotInTheSchema"}) {
					t.Errorf("with an unknown member: %d %v", rec.Code, got)
				}
			}
			if len(h.pub.events) != 0 {
				t.Errorf("refused requests published %d events", len(h.pub.events))
			}
		})
	}
}

// TestSendEventsRequestExamples: every example of the request body in the
// contract is accepted and publishes its events, in order.
func TestSendEventsRequestExamples(t *testing.T) {
	spec, err := gen.GetSpec()
	if err != nil {
		t.Fatal(err)
	}
	media := spec.Paths.Find("/api/events").Post.RequestBody.Value.Content.Get("application/json")
	if len(media.Examples) == 0 {
		t.Fatal("sendEvents has no request examples")
	}
	for name, ex := range media.Examples {
		body, err := json.Marshal(ex.Value.Value)
		if err != nil {
			t.Fatal(err)
		}
		var want gen.SendEventsRequest
		if err := json.Unmarshal(body, &want); err != nil {
			t.Fatal(err)
		}
		h := newHarness(t, options{settings: fakeSettings{s: eventsSettings()}})
		rec := h.serve(t, postEvents(t, string(body)))
		if rec.Code != 200 || len(h.pub.events) != len(want.Events) {
			t.Errorf("example %s: %d %s; published %d of %d", name, rec.Code, rec.Body, len(h.pub.events), len(want.Events))
			continue
		}
		for i, e := range want.Events {
			n, _ := e.Discriminator()
			if h.pub.events[i].Name != n {
				t.Errorf("example %s: event %d is %s, want %s", name, i, h.pub.events[i].Name, n)
			}
		}
	}
}

// TestSendEventsPublished: each event is the route's envelope around its
// data as sent (numbers, escapes, white space and member order kept), the
// user from the session, the public settings and the request id; ids in
// order, Inngest's ids beside them; 200, or 202 when queued.
func TestSendEventsPublished(t *testing.T) {
	o := `{"orderId":"ord_1", "currency":"EUR","total":1.0,"items":[{"unitPrice":9007199254740992,"sku":"\u00e9","quantity":1}]}`
	f := `{"page":{"path":"/x"},"rating":5,"comment":"é <b>"}`
	body := `{"events":[{"data":` + o + `,"name":"shop/order.placed"},{"name":"app/feedback.submitted","data":` + f + `},{"name":"app/feedback.submitted","data":` + feedback + `}]}`
	for _, queued := range []bool{false, true} {
		h := newHarness(t, options{settings: fakeSettings{s: eventsSettings()}, pub: &fakePublisher{queued: queued}})
		r := postEvents(t, body)
		r.headers = map[string]string{"X-Request-Id": "caller-id-1"}
		rec := h.serve(t, r)
		want := map[bool]int{false: 200, true: 202}[queued]
		if rec.Code != want {
			t.Fatalf("queued=%v: %d %s", queued, rec.Code, rec.Body)
		}
		resp := decodeSend(t, rec)
		if h.pub.batches != 1 || len(h.pub.events) != 3 {
			t.Fatalf("%d batches, %d events; want one batch of 3", h.pub.batches, len(h.pub.events))
		}
		wantUser := user.User{ID: "user_42", Email: "ada@example.com", Name: "Ada", Image: "https://example.com/ada.png"}
		for i, ev := range h.pub.events {
			if ev.Name != []string{orderName, feedbackName, feedbackName}[i] || string(ev.Data.Data) != []string{o, f, feedback}[i] {
				t.Errorf("event %d: %s %s", i, ev.Name, ev.Data.Data)
			}
			if ev.Data.User != wantUser || ev.Data.RequestID != "caller-id-1" || ev.Data.Settings["appName"] != "test" || ev.Timestamp != testNow.UnixMilli() {
				t.Errorf("event %d envelope: %+v ts %d", i, ev.Data, ev.Timestamp)
			}
			if resp.EventIDs[i] != ev.ID || len(ev.ID) != 32 {
				t.Errorf("eventIds[%d] = %s, event id %s", i, resp.EventIDs[i], ev.ID)
			}
			if !queued && resp.IDs[i] != "01TESTINNGESTID"+ev.ID[:4] {
				t.Errorf("ids[%d] = %s", i, resp.IDs[i])
			}
		}
		if resp.Success != "true" || resp.Queued != queued || (queued && len(resp.IDs) != 0) || len(resp.EventIDs) != 3 {
			t.Errorf("response %+v", resp)
		}
		if resp.EventIDs[1] == resp.EventIDs[2] {
			t.Error("two events without a key share an id")
		}
		line := map[bool]string{false: `"msg":"events published"`, true: `"msg":"events queued"`}[queued]
		if !strings.Contains(h.logs.String(), line) || !strings.Contains(h.logs.String(), resp.EventIDs[0]) {
			t.Errorf("no %s log line with the ids: %s", line, h.logs)
		}
	}
}

// TestSendEventsConstraints: each constraint of each catalogue event,
// broken, is a 400 at the offending member's exact pointer, and nothing is
// published; so is a batch that holds one broken event among valid ones.
func TestSendEventsConstraints(t *testing.T) {
	lines := func(n int) string {
		var items []string
		for i := range n {
			items = append(items, fmt.Sprintf(`{"sku":"s%d","quantity":1,"unitPrice":1}`, i))
		}
		return "[" + strings.Join(items, ",") + "]"
	}
	withOrder := func(members string) string {
		return `{"orderId":"ord_1","currency":"EUR","total":10,"items":[{"sku":"mug","quantity":1,"unitPrice":10}]` + members + `}`
	}
	orderWith := func(field, value string) string {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(order), &m); err != nil {
			panic(err)
		}
		if value == "" {
			delete(m, field)
		} else {
			m[field] = json.RawMessage(value)
		}
		b, _ := json.Marshal(m)
		return string(b)
	}

	long := func(n int) string { return strconv.Quote(strings.Repeat("a", n)) }

	for _, tc := range []struct {
		name string
		body string
		want []string
	}{
		// shop/order.placed
		{"order: required orderId", batch(orderName, orderWith("orderId", "")), []string{"/events/0/data/orderId"}},
		{"order: orderId pattern", batch(orderName, orderWith("orderId", `"ord_!"`)), []string{"/events/0/data/orderId"}},
		{"order: orderId too long for the pattern", batch(orderName, orderWith("orderId", `"ord_`+strings.Repeat("a", 33)+`"`)), []string{"/events/0/data/orderId"}},
		{"order: currency enum", batch(orderName, orderWith("currency", `"JPY"`)), []string{"/events/0/data/currency"}},
		{"order: total minimum", batch(orderName, orderWith("total", `-0.01`)), []string{"/events/0/data/total"}},
		{"order: total maximum", batch(orderName, orderWith("total", `1000000.5`)), []string{"/events/0/data/total"}},
		{"order: total type", batch(orderName, orderWith("total", `"10"`)), []string{"/events/0/data/total"}},
		{"order: placedAt date-time", batch(orderName, orderWith("placedAt", `"yesterday"`)), []string{"/events/0/data/placedAt"}},
		{"order: placedAt no such day", batch(orderName, orderWith("placedAt", `"2026-02-30T10:00:00Z"`)), []string{"/events/0/data/placedAt"}},
		{"order: placedAt leap second not at the end of a UTC day", batch(orderName, orderWith("placedAt", `"2026-11-30T21:04:60Z"`)), []string{"/events/0/data/placedAt"}},
		{"order: items minItems", batch(orderName, orderWith("items", `[]`)), []string{"/events/0/data/items"}},
		{"order: items maxItems", batch(orderName, orderWith("items", lines(51))), []string{"/events/0/data/items"}},
		{"order: item quantity minimum", batch(orderName, orderWith("items", `[{"sku":"a","quantity":1,"unitPrice":1},{"sku":"b","quantity":0,"unitPrice":1}]`)), []string{"/events/0/data/items/1/quantity"}},
		{"order: item quantity maximum", batch(orderName, orderWith("items", `[{"sku":"a","quantity":1000,"unitPrice":1}]`)), []string{"/events/0/data/items/0/quantity"}},
		{"order: item quantity integer", batch(orderName, orderWith("items", `[{"sku":"a","quantity":1.5,"unitPrice":1}]`)), []string{"/events/0/data/items/0/quantity"}},
		{"order: item sku minLength", batch(orderName, orderWith("items", `[{"sku":"","quantity":1,"unitPrice":1}]`)), []string{"/events/0/data/items/0/sku"}},
		{"order: item sku maxLength", batch(orderName, orderWith("items", `[{"sku":`+long(65)+`,"quantity":1,"unitPrice":1}]`)), []string{"/events/0/data/items/0/sku"}},
		{"order: item required unitPrice", batch(orderName, orderWith("items", `[{"sku":"a","quantity":1}]`)), []string{"/events/0/data/items/0/unitPrice"}},
		{"order: item unitPrice minimum", batch(orderName, orderWith("items", `[{"sku":"a","quantity":1,"unitPrice":-1}]`)), []string{"/events/0/data/items/0/unitPrice"}},
		{"order: item additional member", batch(orderName, orderWith("items", `[{"sku":"a","quantity":1,"unitPrice":1,"colour":"blue"}]`)), []string{"/events/0/data/items/0/colour"}},
		{"order: item not an object", batch(orderName, orderWith("items", `["mug"]`)), []string{"/events/0/data/items/0"}},
		{"order: coupon minLength", batch(orderName, withOrder(`,"coupon":""`)), []string{"/events/0/data/coupon"}},
		{"order: coupon maxLength", batch(orderName, withOrder(`,"coupon":`+long(33))), []string{"/events/0/data/coupon"}},
		{"order: additional member", batch(orderName, withOrder(`,"user":{"id":"someone-else"}`)), []string{"/events/0/data/user"}},
		{"order: several at once", batch(orderName, `{"orderId":"x","currency":"JPY","total":-1,"items":[]}`), []string{"/events/0/data/currency", "/events/0/data/items", "/events/0/data/orderId", "/events/0/data/total"}},
		// app/feedback.submitted
		{"feedback: rating minimum", batch(feedbackName, `{"rating":0,"page":{"path":"/"}}`), []string{"/events/0/data/rating"}},
		{"feedback: rating maximum", batch(feedbackName, `{"rating":6,"page":{"path":"/"}}`), []string{"/events/0/data/rating"}},
		{"feedback: rating integer", batch(feedbackName, `{"rating":4.5,"page":{"path":"/"}}`), []string{"/events/0/data/rating"}},
		{"feedback: required rating", batch(feedbackName, `{"page":{"path":"/"}}`), []string{"/events/0/data/rating"}},
		{"feedback: comment maxLength", batch(feedbackName, feedbackWith(`,"comment":`+long(2001))), []string{"/events/0/data/comment"}},
		{"feedback: email format", batch(feedbackName, feedbackWith(`,"email":"ada.example.com"`)), []string{"/events/0/data/email"}},
		{"feedback: email with a no-break space", batch(feedbackName, feedbackWith(`,"email":"ada\u00a0@example.com"`)), []string{"/events/0/data/email"}},
		{"feedback: email with a display name", batch(feedbackName, feedbackWith(`,"email":"Ada <ada@example.com>"`)), []string{"/events/0/data/email"}},
		{"feedback: required page", batch(feedbackName, `{"rating":4}`), []string{"/events/0/data/page"}},
		{"feedback: nested required path", batch(feedbackName, `{"rating":4,"page":{"title":"t"}}`), []string{"/events/0/data/page/path"}},
		{"feedback: nested pattern", batch(feedbackName, `{"rating":4,"page":{"path":"checkout"}}`), []string{"/events/0/data/page/path"}},
		{"feedback: nested maxLength", batch(feedbackName, `{"rating":4,"page":{"path":"/","title":`+long(201)+`}}`), []string{"/events/0/data/page/title"}},
		{"feedback: nested additional member", batch(feedbackName, `{"rating":4,"page":{"path":"/","query":"?a"}}`), []string{"/events/0/data/page/query"}},
		{"feedback: tags uniqueItems", batch(feedbackName, feedbackWith(`,"tags":["bug","idea","bug"]`)), []string{"/events/0/data/tags/2"}},
		{"feedback: tags maxItems", batch(feedbackName, feedbackWith(`,"tags":["bug","idea","praise","bug"]`)), []string{"/events/0/data/tags", "/events/0/data/tags/3"}},
		{"feedback: tag enum", batch(feedbackName, feedbackWith(`,"tags":["bug","rant"]`)), []string{"/events/0/data/tags/1"}},
		{"feedback: data not an object", batch(feedbackName, `"great"`), []string{"/events/0/data"}},
		{"feedback: data null", batch(feedbackName, `null`), []string{"/events/0/data"}},
		// the batch and its events
		{"unknown name", batch("shop/order.cancelled", order), []string{"/events/0/name"}},
		{"name of another event's data", batch(feedbackName, order), []string{"/events/0/data/currency", "/events/0/data/items", "/events/0/data/orderId", "/events/0/data/page", "/events/0/data/rating", "/events/0/data/total"}},
		{"no name", `{"events":[{"data":` + order + `}]}`, []string{"/events/0/name"}},
		{"name not a string", `{"events":[{"name":1,"data":` + order + `}]}`, []string{"/events/0/name"}},
		{"no data", `{"events":[{"name":"shop/order.placed"}]}`, []string{"/events/0/data"}},
		{"event additional member", `{"events":[{"name":"shop/order.placed","data":` + order + `,"user":"x"}]}`, []string{"/events/0/user"}},
		{"event not an object", `{"events":[1]}`, []string{"/events/0"}},
		{"no events", `{"events":[]}`, []string{"/events"}},
		{"101 events", batch(slices.Repeat([]string{feedbackName, feedback}, 101)...), []string{"/events"}},
		{"events missing", `{}`, []string{"/events"}},
		{"events not an array", `{"events":{"name":"shop/order.placed"}}`, []string{"/events"}},
		{"body additional member", `{"events":[{"name":"app/feedback.submitted","data":` + feedback + `}],"user":{"id":"x"}}`, []string{"/user"}},
		{"mixed batch", batch(feedbackName, feedback, orderName, orderWith("currency", `"JPY"`), feedbackName, feedback), []string{"/events/1/data/currency"}},
		{"every broken event, in order", batch(orderName, order, "nope", "{}", feedbackName, `{"rating":9,"page":{"path":"/"}}`, orderName, order, feedbackName, `{"page":{"path":"/"},"rating":1,"tags":["x"]}`),
			[]string{"/events/1/name", "/events/2/data/rating", "/events/4/data/tags/0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, options{settings: fakeSettings{s: eventsSettings()}})
			rec := h.serve(t, postEvents(t, tc.body))
			if rec.Code != 400 {
				t.Fatalf("status %d, want 400: %s", rec.Code, rec.Body)
			}
			if got := pointers(t, rec); !slices.Equal(got, tc.want) {
				t.Errorf("pointers %q, want %q: %s", got, tc.want, rec.Body)
			}
			if len(h.pub.events) != 0 {
				t.Errorf("published %d events", len(h.pub.events))
			}
		})
	}
}

// TestSendEventsFieldErrorDetails: an unknown or missing name lists the
// catalogue; a constraint's detail says what it wants without the value.
func TestSendEventsFieldErrorDetails(t *testing.T) {
	h := newHarness(t, options{settings: fakeSettings{s: eventsSettings()}})
	names, err := api.CatalogueNames()
	if err != nil {
		t.Fatal(err)
	}
	list := strings.Join(names, ", ")
	for body, want := range map[string]string{
		batch("shop/order.cancelled", order):                         `unknown event name "shop/order.cancelled"; the catalogue has ` + list,
		`{"events":[{"data":{}}]}`:                                   "the event name is missing; the catalogue has " + list,
		`{"events":[{"name":true,"data":{}}]}`:                       "the event name must be a string; the catalogue has " + list,
		`{"events":[{"name":null,"data":{}}]}`:                       "the event name must be a string; the catalogue has " + list,
		batch(feedbackName, `{"rating":0,"page":{"path":"/"}}`):      "number must be at least 1",
		batch(feedbackName, feedbackWith(`,"email":"secret-value"`)): `string doesn't match the format "email"`,
	} {
		rec := h.serve(t, postEvents(t, body))
		p := decodeProblem(t, rec)
		if p.Errors == nil || len(*p.Errors) != 1 || !strings.Contains((*p.Errors)[0].Detail, want) {
			t.Errorf("%s: %s, want a detail with %q", body, rec.Body, want)
		}
		if strings.Contains(rec.Body.String(), "secret-value") {
			t.Errorf("the problem repeats a value: %s", rec.Body)
		}
	}
}

func feedbackWith(members string) string {
	return `{"rating":4,"page":{"path":"/checkout"}` + members + `}`
}

// TestSendEventsManyBroken: every broken event is reported, at most 20, in
// document order (event 2 before event 10).
func TestSendEventsManyBroken(t *testing.T) {
	h := newHarness(t, options{settings: fakeSettings{s: eventsSettings()}})
	body := batch(slices.Repeat([]string{feedbackName, `{"rating":0,"page":{"path":"/"}}`}, 30)...)
	rec := h.serve(t, postEvents(t, body))
	got := pointers(t, rec)
	if rec.Code != 400 || len(got) != 20 || got[0] != "/events/0/data/rating" || got[2] != "/events/2/data/rating" || got[19] != "/events/19/data/rating" {
		t.Fatalf("%d %q", rec.Code, got)
	}
	if p := decodeProblem(t, rec); p.Detail == nil || !strings.Contains(*p.Detail, "30 places") {
		t.Errorf("detail %v does not say 30 places", p.Detail)
	}
}

// TestSendEventsAcceptance: what Inngest would refuse or store changed, in
// any event's data, is a 400 at its pointer, and nothing is published.
func TestSendEventsAcceptance(t *testing.T) {
	for _, tc := range []struct {
		name, body, want string
	}{
		{"duplicate member", batch(feedbackName, feedback, feedbackName, `{"rating":4,"rating":5,"page":{"path":"/"}}`), "/events/1/data/rating"},
		{"duplicate nested member", batch(feedbackName, `{"rating":4,"page":{"path":"/","path":"/x"}}`), "/events/0/data/page/path"},
		{"integer beyond 2^53", batch(feedbackName, feedback, orderName, `{"orderId":"ord_1","currency":"EUR","total":1,"items":[{"sku":"a","quantity":1,"unitPrice":9007199254740993}]}`), "/events/1/data/items/0/unitPrice"},
		{"lone surrogate escape", batch(feedbackName, feedbackWith(`,"comment":"\ud800"`)), "/events/0/data/comment"},
		{"not UTF-8", batch(feedbackName, feedbackWith(",\"comment\":\"\xff\"")), "/events/0/data/comment"},
		{"duplicate name member", `{"events":[{"name":"app/feedback.submitted","name":"app/feedback.submitted","data":` + feedback + `}]}`, "/events/0/name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, options{settings: fakeSettings{s: eventsSettings()}})
			rec := h.serve(t, postEvents(t, tc.body))
			if got := pointers(t, rec); rec.Code != 400 || !slices.Equal(got, []string{tc.want}) {
				t.Errorf("%d %q, want 400 at %s: %s", rec.Code, got, tc.want, rec.Body)
			}
			if len(h.pub.events) != 0 {
				t.Errorf("published %d events", len(h.pub.events))
			}
		})
	}
}

// TestSendEventsTooLarge: each event must fit inngest.maxEventBytes: 413
// with a field error at each event that does not, nothing published.
func TestSendEventsTooLarge(t *testing.T) {
	set := eventsSettings()
	set.Inngest.MaxEventBytes = 1500
	h := newHarness(t, options{settings: fakeSettings{s: set}})
	big := feedbackWith(`,"comment":` + strconv.Quote(strings.Repeat("x", 1500)))
	rec := h.serve(t, postEvents(t, batch(feedbackName, feedback, feedbackName, big, feedbackName, feedback, feedbackName, big)))
	if got := pointers(t, rec); rec.Code != 413 || !slices.Equal(got, []string{"/events/1", "/events/3"}) {
		t.Fatalf("%d %q: %s", rec.Code, got, rec.Body)
	}
	if p := decodeProblem(t, rec); p.Type != "urn:routeapi:problem:payload-too-large" || p.Detail == nil || !strings.Contains(*p.Detail, "2 of the 4 events") ||
		!strings.Contains((*p.Errors)[0].Detail, "more than the 1500 bytes") {
		t.Errorf("problem %s", rec.Body)
	}
	if len(h.pub.events) != 0 {
		t.Errorf("published %d events", len(h.pub.events))
	}
	// Just under the limit is accepted.
	set.Inngest.MaxEventBytes = 3000
	h = newHarness(t, options{settings: fakeSettings{s: set}})
	if rec := h.serve(t, postEvents(t, batch(feedbackName, big))); rec.Code != 200 {
		t.Errorf("an event under the limit: %d %s", rec.Code, rec.Body)
	}
}

// TestSendEventsDisabled: a name the settings switch off refuses the whole
// batch with 403 event-disabled at each such event's name; route.enabled
// false does not switch sendEvents off.
func TestSendEventsDisabled(t *testing.T) {
	set := eventsSettings()
	set.Events.Disabled = []string{orderName}
	set.Route.Enabled = false
	h := newHarness(t, options{settings: fakeSettings{s: set}})
	rec := h.serve(t, postEvents(t, batch(feedbackName, feedback, orderName, order, orderName, order)))
	if got := pointers(t, rec); rec.Code != 403 || !slices.Equal(got, []string{"/events/1/name", "/events/2/name"}) {
		t.Fatalf("%d %q: %s", rec.Code, got, rec.Body)
	}
	p := decodeProblem(t, rec)
	if p.Type != "urn:routeapi:problem:event-disabled" || p.Detail == nil || !strings.Contains(*p.Detail, orderName) || strings.Count(*p.Detail, orderName) != 1 {
		t.Errorf("problem %+v", p)
	}
	if rec.Header().Get("Retry-After") != "" || len(h.pub.events) != 0 {
		t.Errorf("Retry-After %q, %d published", rec.Header().Get("Retry-After"), len(h.pub.events))
	}
	if rec := h.serve(t, postEvents(t, batch(feedbackName, feedback))); rec.Code != 200 {
		t.Errorf("an enabled event with route.enabled false: %d %s", rec.Code, rec.Body)
	}
}

// TestSendEventsRateLimitOnce: a batch counts once against route.rateLimit,
// however many events it holds.
func TestSendEventsRateLimitOnce(t *testing.T) {
	set := eventsSettings()
	set.Route.RateLimit = &settings.RateLimit{Requests: 2, Per: time.Minute}
	h := newHarness(t, options{settings: fakeSettings{s: set}})
	ten := batch(slices.Repeat([]string{feedbackName, feedback}, 10)...)
	for i, want := range []string{"1", "0"} {
		rec := h.serve(t, postEvents(t, ten))
		if rec.Code != 200 || rec.Header().Get("RateLimit-Remaining") != want || rec.Header().Get("RateLimit-Limit") != "2" {
			t.Fatalf("request %d: %d remaining %q: %s", i, rec.Code, rec.Header().Get("RateLimit-Remaining"), rec.Body)
		}
	}
	rec := h.serve(t, postEvents(t, batch(feedbackName, feedback)))
	if rec.Code != 429 || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("third request: %d %s", rec.Code, rec.Body)
	}
	if len(h.pub.events) != 20 {
		t.Errorf("published %d events, want 20", len(h.pub.events))
	}
}

// TestSendEventsIdempotency: one key covers the batch; event i's id derives
// from the key, its window and i; a replay gets the recorded answer and
// publishes nothing; another batch under the key is refused (422); the
// route's keys and the batches' are apart.
func TestSendEventsIdempotency(t *testing.T) {
	_, st := boltStore(t)
	pub := &gatePublisher{}
	h := newHarness(t, options{settings: fakeSettings{s: eventsSettings()}, idem: st, publisher: pub})
	const key = "batch-key-1"
	with := func(body string) request {
		r := postEvents(t, body)
		r.headers = map[string]string{"Idempotency-Key": key}
		return r
	}
	body := batch(orderName, order, feedbackName, feedback)
	first := h.serve(t, with(body))
	if first.Code != 200 {
		t.Fatalf("first: %d %s", first.Code, first.Body)
	}
	resp := decodeSend(t, first)
	for i, got := range resp.EventIDs {
		if want := events.BatchEventID(events.KindUser, "user_42", key, testNow.Add(idempotency.Window), i); got != want {
			t.Errorf("eventIds[%d] = %s, want BatchEventID %s", i, got, want)
		}
	}
	spaced := strings.ReplaceAll(body, `","data":`, `", "data" : `)
	for _, b := range []string{body, spaced} {
		again := h.serve(t, with(b))
		if again.Code != 200 || again.Body.String() != first.Body.String() {
			t.Fatalf("replay: %d %s, want %s", again.Code, again.Body, first.Body)
		}
	}
	if n := pub.count(); n != 2 {
		t.Fatalf("%d events published, want the first batch's 2", n)
	}
	for _, other := range []string{batch(feedbackName, feedback, orderName, order), batch(orderName, order), batch(orderName, order, feedbackName, `{"page":{"path":"/checkout"},"rating":4}`)} {
		rec := h.serve(t, with(other))
		wantProblem(t, rec, rec.Body.Bytes(), 422, "idempotency-key-reused")
	}
	// The same key on POST /api/route is another key.
	route := keyed(cookieFor(t, adaClaims), key, `{"data":1}`)
	rec := h.serve(t, route)
	if rec.Code != 200 || slices.Contains(resp.EventIDs, eventID(t, rec.Body.Bytes())) {
		t.Fatalf("route with the batch's key: %d %s", rec.Code, rec.Body)
	}
	if again := h.serve(t, with(body)); again.Body.String() != first.Body.String() {
		t.Errorf("the batch after the route used its key: %s", again.Body)
	}
	if n := pub.count(); n != 3 {
		t.Errorf("%d events published, want 3", n)
	}
	if !strings.Contains(h.logs.String(), `"msg":"idempotent replay"`) || !strings.Contains(h.logs.String(), `"event_ids":["`+resp.EventIDs[0]) {
		t.Errorf("no replay log line with the event ids: %s", h.logs)
	}

	// Queued: the 202 is recorded and replayed.
	pub.set(func(p *gatePublisher) { p.queued = true })
	r := with(batch(feedbackName, feedback))
	r.headers["Idempotency-Key"] = "batch-key-2"
	q := h.serve(t, r)
	if q.Code != 202 {
		t.Fatalf("queued: %d %s", q.Code, q.Body)
	}
	pub.set(func(p *gatePublisher) { p.queued = false })
	if again := h.serve(t, r); again.Code != 202 || again.Body.String() != q.Body.String() {
		t.Errorf("replay of a 202: %d %s, want %s", again.Code, again.Body, q.Body)
	}
}

// TestSendEventsKeyWithoutStore: without an idempotency store the key
// still derives the ids (window end zero), so a retry has the same ids.
func TestSendEventsKeyWithoutStore(t *testing.T) {
	h := newHarness(t, options{settings: fakeSettings{s: eventsSettings()}})
	r := postEvents(t, batch(feedbackName, feedback, feedbackName, feedback))
	r.headers = map[string]string{"Idempotency-Key": "k"}
	a, b := decodeSend(t, h.serve(t, r)), decodeSend(t, h.serve(t, r))
	for i := range 2 {
		want := events.BatchEventID(events.KindUser, "user_42", "k", time.Time{}, i)
		if a.EventIDs[i] != want || b.EventIDs[i] != want {
			t.Errorf("event %d: %s, %s; want %s", i, a.EventIDs[i], b.EventIDs[i], want)
		}
	}
	if len(h.pub.events) != 4 {
		t.Errorf("published %d events, want both requests' 4", len(h.pub.events))
	}
}

// TestSendEventsKeyInFlight: a batch repeated while the first with its key
// is still publishing gets 409; another batch under the key 422; once the
// first has answered, the repeat gets its answer.
func TestSendEventsKeyInFlight(t *testing.T) {
	_, st := boltStore(t)
	pub := &gatePublisher{gate: make(chan struct{}), entered: make(chan struct{}, 1)}
	h := newHarness(t, options{settings: fakeSettings{s: eventsSettings()}, idem: st, publisher: pub})
	req := postEvents(t, batch(feedbackName, feedback))
	req.headers = map[string]string{"Idempotency-Key": "k-batch-in-flight"}
	done := make(chan *httptest.ResponseRecorder, 1)
	go func() {
		rec := httptest.NewRecorder()
		h.handler.ServeHTTP(rec, req.build())
		done <- rec
	}()
	<-pub.entered
	rec := h.serve(t, req)
	wantProblem(t, rec, rec.Body.Bytes(), 409, "idempotency-key-in-flight")
	other := req
	other.body = batch(orderName, order)
	rec = h.serve(t, other)
	wantProblem(t, rec, rec.Body.Bytes(), 422, "idempotency-key-reused")
	close(pub.gate)
	first := <-done
	if first.Code != 200 {
		t.Fatalf("first: %d %s", first.Code, first.Body)
	}
	pub.set(func(p *gatePublisher) { p.gate = nil })
	if again := h.serve(t, req); again.Code != 200 || again.Body.String() != first.Body.String() {
		t.Fatalf("after the first answered: %d %s, want %s", again.Code, again.Body, first.Body)
	}
	if n := pub.count(); n != 1 {
		t.Errorf("%d events published, want 1", n)
	}
}

// TestSendEventsAcceptanceBeforeSchema: a value Inngest would refuse or
// change is reported as that, even where the schema constrains the same
// member: the validator sees the body decoded (the last of two members, a
// number it cannot convert), so its own finding there would be about a
// value the caller did not send or would not say why.
func TestSendEventsAcceptanceBeforeSchema(t *testing.T) {
	order := func(total string) string {
		return `{"orderId":"ord_1","currency":"EUR","total":` + total + `,"items":[{"sku":"mug","quantity":1,"unitPrice":10}]}`
	}
	for _, tc := range []struct {
		name, body, pointer, detail string
	}{
		{"a member twice, the last out of bounds", batch(feedbackName, `{"rating":4,"rating":9,"page":{"path":"/"}}`), "/events/0/data/rating", `"rating" appears twice`},
		{"a member twice, the first out of bounds", batch(feedbackName, `{"rating":9,"rating":4,"page":{"path":"/"}}`), "/events/0/data/rating", `"rating" appears twice`},
		{"a number beyond float64 with a maximum", batch(orderName, order("1e400")), "/events/0/data/total", "1e400"},
		{"a number beyond float64 below a minimum", batch(orderName, order("-1e400")), "/events/0/data/total", "-1e400"},
		{"events twice, the last empty", `{"events":[{"name":"app/feedback.submitted","data":` + feedback + `}],"events":[]}`, "/events", `"events" appears twice`},
		{"name twice, the last unknown", `{"events":[{"name":"app/feedback.submitted","name":"nope","data":` + feedback + `}]}`, "/events/0/name", `"name" appears twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, options{settings: fakeSettings{s: eventsSettings()}})
			rec := h.serve(t, postEvents(t, tc.body))
			p := decodeProblem(t, rec)
			if rec.Code != 400 || p.Errors == nil || len(*p.Errors) != 1 || (*p.Errors)[0].Pointer != tc.pointer || !strings.Contains((*p.Errors)[0].Detail, tc.detail) {
				t.Errorf("%d %s, want 400 at %s saying %q", rec.Code, rec.Body, tc.pointer, tc.detail)
			}
			if len(h.pub.events) != 0 {
				t.Errorf("published %d events", len(h.pub.events))
			}
		})
	}
	// The schema's findings elsewhere in the body are still listed, in
	// document order.
	h0 := newHarness(t, options{settings: fakeSettings{s: eventsSettings()}})
	rec0 := h0.serve(t, postEvents(t, batch(feedbackName, `{"rating":9,"page":{"path":"/"}}`, feedbackName, `{"rating":4,"rating":9,"page":{"path":"x"}}`, orderName, order("-1"))))
	got := pointers(t, rec0)
	if want := []string{"/events/0/data/rating", "/events/1/data/page/path", "/events/1/data/rating", "/events/2/data/total"}; rec0.Code != 400 || !slices.Equal(got, want) {
		t.Errorf("%d %q, want 400 at %q: %s", rec0.Code, got, want, rec0.Body)
	}
	if p := decodeProblem(t, rec0); p.Detail == nil || !strings.Contains(*p.Detail, "appears twice") || !strings.Contains(*p.Detail, "3 other places") {
		t.Errorf("detail %v", p.Detail)
	}
	for _, fe := range *decodeProblem(t, rec0).Errors {
		if fe.Pointer == "/events/1/data/rating" && !strings.Contains(fe.Detail, "appears twice") {
			t.Errorf("the duplicate's field error says %q", fe.Detail)
		}
	}
	// A malformed header is still reported as such.
	h := newHarness(t, options{settings: fakeSettings{s: eventsSettings()}})
	r := postEvents(t, batch(orderName, order("1e400")))
	r.headers = map[string]string{"Idempotency-Key": "é"}
	rec := h.serve(t, r)
	if p := decodeProblem(t, rec); rec.Code != 400 || p.Detail == nil || !strings.Contains(*p.Detail, "Idempotency-Key") {
		t.Errorf("bad key and bad number: %d %s, want the header's 400", rec.Code, rec.Body)
	}
}

// TestSendEventsMaxLengthCountsCodePoints: maxLength and minLength count
// Unicode code points, as JSON Schema says and kin-openapi does: not bytes,
// not UTF-16 code units (JavaScript's length: 400 for 200 emoji), not what a
// reader sees as one character (e and a combining accent are two). An
// escaped surrogate pair is one code point.
func TestSendEventsMaxLengthCountsCodePoints(t *testing.T) {
	title := func(s string) string { return batch(feedbackName, `{"rating":4,"page":{"path":"/","title":"`+s+`"}}`) }
	for _, tc := range []struct {
		name, body string
		want       int
	}{
		{"200 emoji (800 bytes, 400 UTF-16 units)", title(strings.Repeat("😀", 200)), 200},
		{"201 emoji", title(strings.Repeat("😀", 201)), 400},
		{"200 escaped surrogate pairs", title(strings.Repeat(`\ud83d\ude00`, 200)), 200},
		{"201 escaped surrogate pairs", title(strings.Repeat(`\ud83d\ude00`, 201)), 400},
		{"100 e with a combining accent (200 code points)", title(strings.Repeat("e\u0301", 100)), 200},
		{"100 e with a combining accent and one more", title(strings.Repeat("e\u0301", 100) + "x"), 400},
		{"200 escaped A", title(strings.Repeat(`\u0041`, 200)), 200},
		{"201 escaped A", title(strings.Repeat(`\u0041`, 201)), 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, options{settings: fakeSettings{s: eventsSettings()}})
			rec := h.serve(t, postEvents(t, tc.body))
			if rec.Code != tc.want {
				t.Fatalf("%d, want %d: %s", rec.Code, tc.want, rec.Body)
			}
			if tc.want == 400 {
				if got := pointers(t, rec); !slices.Equal(got, []string{"/events/0/data/page/title"}) {
					t.Errorf("pointers %q", got)
				}
			}
		})
	}
}
