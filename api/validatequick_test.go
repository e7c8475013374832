package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/go-chi/chi/v5"

	"github.com/routeapi/routeapi/gen"
	"github.com/routeapi/routeapi/internal/rawjson"
	"github.com/routeapi/routeapi/internal/session"
	"github.com/routeapi/routeapi/internal/settings"
)

// validationChains are POST /api/route's and POST /api/events' body
// middlewares as NewServer mounts them (content coding, body limit,
// fenceBody shrinking the route's data, the validator, oneJSONValue) in
// front of a handler that answers 204 with the body it was given: plain with
// kin-openapi's full validator alone, quick with validator (quickValidation
// first), and probe ending at quickValidation's verdict alone.
type validationChains struct {
	plain, quick http.Handler
	probe        http.Handler
	q            *quickValidation
	verdict      bool
}

func newValidationChains(t testing.TB) *validationChains {
	t.Helper()
	spec, err := gen.GetSpec()
	if err != nil {
		t.Fatal(err)
	}
	names := session.CookieNames(false)
	full, opts := fullValidator(spec, names, nil)
	q, err := newQuickValidation(spec, opts)
	if err != nil {
		t.Fatal(err)
	}
	quickSpec, err := gen.GetSpec()
	if err != nil {
		t.Fatal(err)
	}
	c := &validationChains{q: q}
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		if r.Body != nil {
			var buf [512]byte
			for {
				n, err := r.Body.Read(buf[:])
				b.Write(buf[:n])
				if err != nil {
					break
				}
			}
		}
		w.WriteHeader(http.StatusNoContent)
		_, _ = w.Write([]byte(b.String()))
	})
	chain := func(validate func(http.Handler) http.Handler, last http.Handler) http.Handler {
		r := chi.NewRouter()
		limit := limitBody(func(*http.Request) int64 { return 1 << 20 })
		mws := r.With(contentCoding, limit, fenceBody(shrinkSafe(spec)), validate, oneJSONValue)
		mws.Post(eventsPath, last.ServeHTTP)
		mws.Post(routePath, last.ServeHTTP)
		return r
	}
	c.plain = chain(full, echo)
	c.quick = chain(validator(quickSpec, names), echo)
	c.probe = chain(func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c.verdict = q.valid(r)
			w.WriteHeader(http.StatusNoContent)
		})
	}, echo)
	return c
}

// eventsRequest is POST /api/events with body, the content type ct and,
// when cookie is set, a session cookie (the validator checks only that
// one is there).
func eventsRequest(body, ct string, cookie bool) *http.Request {
	r := httptest.NewRequest(http.MethodPost, eventsPath, strings.NewReader(body))
	if ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	if cookie {
		r.AddCookie(&http.Cookie{Name: session.CookieName, Value: "x"})
	}
	return r
}

// recordedAnswer is h's answer to r: status, headers and body.
func recordedAnswer(h http.Handler, r *http.Request) string {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	var b strings.Builder
	fmt.Fprintf(&b, "%d\n", rec.Code)
	for _, k := range slices.Sorted(maps.Keys(rec.Header())) {
		fmt.Fprintf(&b, "%s: %q\n", k, rec.Header()[k])
	}
	b.WriteString(rec.Body.String())
	return b.String()
}

// sameAnswer fails t unless the quick chain answers POST /api/events with
// body exactly as the plain one does, and a body quickValidation takes is
// one the full validator takes. It reports quickValidation's verdict.
func (c *validationChains) sameAnswer(t *testing.T, body, ct string, cookie bool) bool {
	t.Helper()
	return c.sameAnswerTo(t, func() *http.Request { return eventsRequest(body, ct, cookie) })
}

// sameAnswerTo is sameAnswer for any request: newReq makes a fresh copy of
// it for each chain.
func (c *validationChains) sameAnswerTo(t *testing.T, newReq func() *http.Request) bool {
	t.Helper()
	plain := recordedAnswer(c.plain, newReq())
	quick := recordedAnswer(c.quick, newReq())
	if plain != quick {
		t.Fatalf("%s:\nplain validator:\n%s\nquick validation first:\n%s", describeRequest(newReq()), plain, quick)
	}
	c.verdict = false
	recordedAnswer(c.probe, newReq())
	if c.verdict && !strings.HasPrefix(plain, "204\n") {
		t.Fatalf("quickValidation takes %s, the validator answers:\n%s", describeRequest(newReq()), plain)
	}
	return c.verdict
}

// describeRequest is r's path, headers and body, for a failure message.
func describeRequest(r *http.Request) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", r.Method, r.URL.Path)
	for _, k := range slices.Sorted(maps.Keys(r.Header)) {
		fmt.Fprintf(&b, ", %s: %q", k, r.Header[k])
	}
	var body bytes.Buffer
	_, _ = body.ReadFrom(r.Body)
	fmt.Fprintf(&b, ", body %q", body.String())
	return b.String()
}

// contractEvents are the catalogue's events built from the contract's own
// examples of each event's data (name, data JSON).
func contractEvents(t testing.TB) [][2]string {
	t.Helper()
	_, item := loadCatalogue(t)
	var out [][2]string
	for _, name := range slices.Sorted(maps.Keys(item.Discriminator.Mapping)) {
		ref := item.Discriminator.Mapping[name].Ref
		for _, one := range item.OneOf {
			if one.Ref != ref {
				continue
			}
			data := one.Value.Properties["data"].Value
			raw, err := json.Marshal(data.Example)
			if err != nil || data.Example == nil {
				t.Fatalf("%s: no example of its data: %v", name, err)
			}
			out = append(out, [2]string{name, string(raw)})
		}
	}
	return out
}

// eventsBody is a SendEventsRequest of the events given as name and data JSON.
func eventsBody(evs ...[2]string) string {
	parts := make([]string, len(evs))
	for i, e := range evs {
		parts[i] = fmt.Sprintf(`{"name":%q,"data":%s}`, e[0], e[1])
	}
	return `{"events":[` + strings.Join(parts, ",") + `]}`
}

// quickSeeds are bodies for TestQuickValidationSameAnswer and
// FuzzSendEventsSameAnswer: the contract's examples, a 1 KiB order as
// BenchmarkSendEvents sends, and broken bodies of each kind (schema,
// discriminator, acceptance rules, not JSON, trailing data).
func quickSeeds(t testing.TB) []string {
	evs := contractEvents(t)
	order := `{"orderId":"ord_8f2k1","currency":"EUR","total":59.8,"placedAt":"2026-11-30T21:04:05Z","items":[` +
		strings.Repeat(`{"sku":"mug-blue-0001","quantity":2,"unitPrice":29.9},`, 16) + `{"sku":"s","quantity":2,"unitPrice":29.9}]}`
	feedback := `{"rating":4,"email":"ada@example.com","page":{"path":"/checkout","title":"Checkout"},"tags":["praise"],"comment":"` + strings.Repeat("c", 900) + `"}`
	seeds := []string{
		eventsBody(evs...),
		eventsBody(evs[0]),
		eventsBody(evs[len(evs)-1], evs[0], evs[len(evs)-1]),
		eventsBody([2]string{"shop/order.placed", order}),
		eventsBody([2]string{"shop/order.placed", order}, [2]string{"app/feedback.submitted", feedback}),
		// Escapes, white space and numbers written in other ways: the same values.
		"{ \"events\" : [ {\"name\":\"app\\/feedback.submitted\",\"data\":{\"rating\":4e0,\"page\":{\"path\":\"\\/caf\\u00e9\"},\"comment\":\"\\ud83d\\ude00\\n\"}} ] }\n",
		`{"events":[{"name":"shop/order.placed","data":{"orderId":"ord_1","currency":"EUR","total":-0,"items":[{"sku":"a","quantity":1.0,"unitPrice":1E2}]}}]}`,
		`{"events":[{"data":{"rating":5,"page":{"path":"/"}},"name":"app/feedback.submitted"}]}`,
		// Broken.
		`{"events":[{"name":"app/feedback.submitted","data":{"rating":0,"page":{"path":"/"}}}]}`,
		`{"events":[{"name":"app/feedback.submitted","data":{"rating":4.5,"page":{"path":"x"},"tags":["bug","bug"],"email":"ada.example.com"}}]}`,
		`{"events":[{"name":"app/feedback.submitted","data":{"rating":4,"page":{"path":"/"},"email":"Ada <ada@example.com>"}}]}`,
		`{"events":[{"name":"shop/order.placed","data":{"orderId":"x","currency":"JPY","total":-1,"items":[]}}]}`,
		`{"events":[{"name":"shop/order.placed","data":{"orderId":"ord_1","currency":"EUR","total":1,"placedAt":"2016-12-31T22:59:60Z","items":[{"sku":"a","quantity":1,"unitPrice":1}]}}]}`,
		`{"events":[{"name":"shop/order.cancelled","data":{}}]}`,
		`{"events":[{"data":{}}]}`,
		`{"events":[{"name":true,"data":{}}]}`,
		`{"events":[{"name":null,"data":1},{"data":{}},[],1,"x"]}`,
		`{"events":[{"name":"shop/order.placed"}]}`,
		`{"events":[{"name":"app/feedback.submitted","data":{"rating":4,"page":{"path":"/"}},"user":"x"}]}`,
		`{"events":[]}`,
		`{"events":{}}`,
		`{}`,
		`{"events":[{"name":"app/feedback.submitted","data":{"rating":4,"page":{"path":"/"}}}],"user":{"id":"x"}}`,
		`{"events":[{"name":"app/feedback.submitted","data":{"rating":4,"rating":5,"page":{"path":"/"}}}]}`,
		`{"events":[{"name":"app/feedback.submitted","data":{"rating":4,"page":{"path":"/","title":"\ud800"}}}]}`,
		"{\"events\":[{\"name\":\"app/feedback.submitted\",\"data\":{\"rating\":4,\"page\":{\"path\":\"/\",\"title\":\"\xff\"}}}]}",
		`{"events":[{"name":"shop/order.placed","data":{"orderId":"ord_1","currency":"EUR","total":1,"items":[{"sku":"a","quantity":1,"unitPrice":9007199254740993}]}}]}`,
		`{"events":[{"name":"app/feedback.submitted","data":{"rating":4,"page":{"path":"/"}}}]} trailing`,
		`{"events":[`,
		``,
		`null`,
		// More of the broken bodies of TestSendEventsSchema.
		eventsBody([2]string{"app/feedback.submitted", order}),
		eventsBody([2]string{"shop/order.placed", `{"orderId":"ord_1","currency":"EUR","total":10,"coupon":"","items":[{"sku":"mug","quantity":1,"unitPrice":10}]}`}),
		eventsBody([2]string{"shop/order.placed", `{"orderId":"ord_1","currency":"EUR","total":10,"placedAt":"2026-02-30T00:00:00Z","items":[{"sku":"mug","quantity":1000,"unitPrice":10}]}`}),
		eventsBody(slices.Repeat([][2]string{{"app/feedback.submitted", `{"rating":4,"page":{"path":"/"}}`}}, 101)...),
		eventsBody(slices.Repeat([][2]string{{"app/feedback.submitted", `{"rating":0,"page":{"path":"/"}}`}}, 30)...),
		eventsBody(evs[0], [2]string{"nope", "{}"}, [2]string{"app/feedback.submitted", `{"page":{"path":"/"},"rating":1,"tags":["x"]}`}),
	}
	return seeds
}

// quickContentTypes are the content types the differential tests send.
var quickContentTypes = []string{"application/json", "application/json; charset=utf-8", "Application/JSON", "", "text/plain", "application/merge-patch+json", "application/json;charset=iso-8859-1"}

// TestQuickValidationSameAnswer: quickValidation takes the valid bodies
// (so the fast path is the one BenchmarkSendEvents measures), refuses
// nothing itself, and the validator answers every seed, with every content
// type, with and without a credential, exactly as the full validator alone.
func TestQuickValidationSameAnswer(t *testing.T) {
	c := newValidationChains(t)
	taken := 0
	for i, body := range quickSeeds(t) {
		for _, ct := range quickContentTypes {
			for _, cookie := range []bool{true, false} {
				if c.sameAnswer(t, body, ct, cookie) {
					taken++
				}
			}
		}
		if i < 8 && !c.sameAnswer(t, body, "application/json", true) {
			t.Errorf("quickValidation does not take the valid body %q", body)
		}
	}
	if taken == 0 {
		t.Fatal("quickValidation took no body")
	}
}

// TestQuickOperations: quickValidation validates the bodies of POST
// /api/route and POST /api/events and no other operation's; an operation
// whose body schemas mark a member readOnly is left to the full validator
// (the other one stays), and setting defaults turns it off for both.
func TestQuickOperations(t *testing.T) {
	spec, err := gen.GetSpec()
	if err != nil {
		t.Fatal(err)
	}
	_, opts := fullValidator(spec, session.CookieNames(false), nil)
	quickIDs := func() []string {
		var ids []string
		for op := range quickOperations(spec, opts) {
			ids = append(ids, operationKey(op.OperationID))
		}
		slices.Sort(ids)
		return ids
	}
	both := []string{operationKey("postRoute"), operationKey("sendEvents")}
	slices.Sort(both)
	if ids := quickIDs(); !slices.Equal(ids, both) {
		t.Fatalf("quick operations %q, want %q", ids, both)
	}
	item, err := catalogueSchema(spec)
	if err != nil {
		t.Fatal(err)
	}
	item.OneOf[0].Value.Properties["data"].Value.Properties = maps.Clone(item.OneOf[0].Value.Properties["data"].Value.Properties)
	for name, p := range item.OneOf[0].Value.Properties["data"].Value.Properties {
		ro := *p.Value
		ro.ReadOnly = true
		item.OneOf[0].Value.Properties["data"].Value.Properties[name] = &openapi3.SchemaRef{Value: &ro}
		break
	}
	if ids := quickIDs(); !slices.Equal(ids, []string{operationKey("postRoute")}) {
		t.Fatalf("with a readOnly member in an event: quick operations %q, want postRoute only", ids)
	}
	route := spec.Paths.Find(routePath).Post.RequestBody.Value.Content["application/json"].Schema.Value
	route.Properties = maps.Clone(route.Properties)
	wo := *route.Properties["data"].Value
	wo.WriteOnly = true
	route.Properties["data"] = &openapi3.SchemaRef{Value: &wo}
	if ids := quickIDs(); len(ids) != 0 {
		t.Fatalf("with a writeOnly data in the route too: quick operations %q, want none", ids)
	}
	spec, err = gen.GetSpec()
	if err != nil {
		t.Fatal(err)
	}
	route = spec.Paths.Find(routePath).Post.RequestBody.Value.Content["application/json"].Schema.Value
	route.Properties = maps.Clone(route.Properties)
	ro := *route.Properties["data"].Value
	ro.ReadOnly = true
	route.Properties["data"] = &openapi3.SchemaRef{Value: &ro}
	if ids := quickIDs(); !slices.Equal(ids, []string{operationKey("sendEvents")}) {
		t.Fatalf("with a readOnly data in the route: quick operations %q, want sendEvents only", ids)
	}
	opts.SkipSettingDefaults = false
	if ids := quickIDs(); len(ids) != 0 {
		t.Fatalf("setting defaults: quick operations %q, want none", ids)
	}
}

// FuzzSendEventsSameAnswer: for any body, content type and credential, the
// validator with quickValidation first answers exactly (status, headers,
// problem with its pointers and details, the body the handler gets) as
// kin-openapi's full validator alone, and quickValidation takes no body
// the full validator refuses. Seeded with the contract's examples and
// broken bodies; `go test ./api -run '^$' -fuzz FuzzSendEventsSameAnswer`
// explores further.
func FuzzSendEventsSameAnswer(f *testing.F) {
	for _, body := range quickSeeds(f) {
		f.Add(body, uint8(0))
	}
	f.Add(quickSeeds(f)[0], uint8(1))
	f.Add(quickSeeds(f)[1], uint8(2+len(quickContentTypes)))
	c := newValidationChains(f)
	f.Fuzz(func(t *testing.T, body string, how uint8) {
		ct := quickContentTypes[int(how>>1)%len(quickContentTypes)]
		c.sameAnswer(t, body, ct, how&1 == 0)
	})
}

// FuzzDecodeFenced: decodeFenced decodes every body the fence takes
// (rawjson.Check with POST /api/events' depth) into exactly the value
// kin-openapi's JSONBodyDecoder makes of it (encoding/json's Decoder with
// UseNumber), and never decodes any other bytes into a different value.
func FuzzDecodeFenced(f *testing.F) {
	for _, body := range quickSeeds(f) {
		f.Add(body)
	}
	for _, s := range []string{`1`, `-0.5e+3`, `"\u0000\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"`, `[]`, `{}`, ` [ 1 , {"a" : [ true , false , null ] } ] `, `01`, `1.`, `"a` + "\x01" + `"`, `{"a":1,}`, `[1 2]`, `"` + "\xe9" + `"`, "[" + strings.Repeat("[", 600) + strings.Repeat("]", 601)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var want any
		dec := json.NewDecoder(strings.NewReader(body))
		dec.UseNumber()
		wantErr := dec.Decode(&want)
		got, err := decodeFenced([]byte(body))
		_, fenceErr := rawjson.Check([]byte(body), settings.MaxDataDepth+fencedBodies[eventsPath].dataDepth)
		switch {
		case fenceErr == nil && (err != nil || wantErr != nil):
			t.Fatalf("%q: the fence takes it; decodeFenced: %v, encoding/json: %v", body, err, wantErr)
		case err == nil && wantErr != nil:
			t.Fatalf("%q: decodeFenced decodes what encoding/json refuses (%v)", body, wantErr)
		case err == nil && !reflect.DeepEqual(got, want):
			t.Fatalf("%q: decodeFenced %#v, encoding/json %#v", body, got, want)
		}
	})
}

// BenchmarkDecodeFenced compares decodeFenced with the decoding it stands
// for (kin-openapi's JSONBodyDecoder: encoding/json's Decoder with
// UseNumber) on a body of one 1 KiB order.
func BenchmarkDecodeFenced(b *testing.B) {
	body := []byte(quickSeeds(b)[3])
	b.Run("decodeFenced", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeFenced(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			var v any
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.UseNumber()
			if err := dec.Decode(&v); err != nil {
				b.Fatal(err)
			}
		}
	})
}
