package api

import (
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/routeapi/routeapi/gen"
	"github.com/routeapi/routeapi/internal/settings"
)

// TestCatalogueNamesAreEventNames: every catalogue name is a name Inngest
// takes (settings.CheckEventName), none is the route's default event, and
// the settings loader takes the catalogue with the default settings.
func TestCatalogueNamesAreEventNames(t *testing.T) {
	names, err := CatalogueNames()
	if err != nil {
		t.Fatal(err)
	}
	if len(names) < 2 || !sort.StringsAreSorted(names) {
		t.Fatalf("CatalogueNames = %q", names)
	}
	for _, n := range names {
		if err := settings.CheckEventName(n); err != nil {
			t.Errorf("catalogue name %q: %v", n, err)
		}
	}
	if slices.Contains(names, settings.DefaultEvent) {
		t.Errorf("the catalogue has the route's event %s", settings.DefaultEvent)
	}
	if _, err := settings.ParseFor(nil, names); err != nil {
		t.Errorf("default settings with the catalogue: %v", err)
	}
}

// TestSecuredOperations: the credential is read for exactly the operations
// whose security is not empty in the contract, and each of them is a method
// of gen.StrictServerInterface under operationKey, so withCredential finds
// it by gen's Go name.
func TestSecuredOperations(t *testing.T) {
	spec, err := gen.GetSpec()
	if err != nil {
		t.Fatal(err)
	}
	got := securedOperations(spec)
	if want := map[string]bool{"postroute": true, "sendevents": true}; !reflect.DeepEqual(got, want) {
		t.Errorf("securedOperations = %v, want %v", got, want)
	}
	methods := map[string]bool{}
	it := reflect.TypeFor[gen.StrictServerInterface]()
	for i := range it.NumMethod() {
		methods[operationKey(it.Method(i).Name)] = true
	}
	for key := range got {
		if !methods[key] {
			t.Errorf("secured operation %s is no method of gen.StrictServerInterface", key)
		}
	}
	if operationKey("sendEvents") != operationKey("SendEvents") || operationKey("send-events") != "sendevents" {
		t.Error("operationKey does not match the contract's ids to gen's names")
	}
	// An empty alternative makes the credential optional.
	spec.Paths.Find("/api/events").Post.Security = &openapi3.SecurityRequirements{{"bearerAuth": {}}, {}}
	if securedOperations(spec)["sendevents"] {
		t.Error("an operation with an empty security alternative is secured")
	}
}

// TestRequestFormatsChecked: every string format in a request body of the
// contract has a validator, so a catalogue event using a format the
// validator does not check (uri, hostname, …) fails here instead of being
// accepted unchecked.
func TestRequestFormatsChecked(t *testing.T) {
	spec, err := gen.GetSpec()
	if err != nil {
		t.Fatal(err)
	}
	formats := requestFormats(spec)
	if !slices.Contains(formats, "date-time") || !slices.Contains(formats, "email") {
		t.Fatalf("the walk found the formats %q; the catalogue uses date-time and email", formats)
	}
	for _, f := range formats {
		if !checksStringFormat(f) {
			t.Errorf("format %q is used in a request body and not checked: add a validator to stringFormats", f)
		}
	}
	// The walk sees a format nested in a new event, and uri is not checked.
	spec.Components.Schemas["FeedbackSubmittedData"].Value.Properties["page"].Value.Properties["path"].Value.Format = "uri"
	if f := requestFormats(spec); !slices.Contains(f, "uri") || checksStringFormat("uri") {
		t.Errorf("a nested uri format: walk found %q", f)
	}
}

// requestFormats are the string formats of every schema in a request body
// of spec (through properties, items, additionalProperties, oneOf, anyOf,
// allOf and not), each once.
func requestFormats(spec *openapi3.T) []string {
	var out []string
	seen := map[*openapi3.Schema]bool{}
	var walk func(r *openapi3.SchemaRef)
	walk = func(r *openapi3.SchemaRef) {
		if r == nil || r.Value == nil || seen[r.Value] {
			return
		}
		s := r.Value
		seen[s] = true
		if s.Format != "" && (s.Type == nil || s.Type.Includes(openapi3.TypeString)) && !slices.Contains(out, s.Format) {
			out = append(out, s.Format)
		}
		for _, p := range s.Properties {
			walk(p)
		}
		walk(s.Items)
		walk(s.AdditionalProperties.Schema)
		walk(s.Not)
		for _, group := range []openapi3.SchemaRefs{s.OneOf, s.AnyOf, s.AllOf} {
			for _, x := range group {
				walk(x)
			}
		}
	}
	for _, item := range spec.Paths.Map() {
		for _, op := range item.Operations() {
			if op.RequestBody == nil || op.RequestBody.Value == nil {
				continue
			}
			for _, media := range op.RequestBody.Value.Content {
				walk(media.Schema)
			}
		}
	}
	return out
}

// TestStringFormats: the email and uuid validators, at their edges.
func TestStringFormats(t *testing.T) {
	for _, tc := range []struct {
		format, value string
		ok            bool
	}{
		{"email", "ada@example.com", true},
		{"email", "ada.lovelace+news@mail.example.co.uk", true},
		{"email", "ada@localhost", true},
		{"email", "ada.example.com", false},
		{"email", "Ada <ada@example.com>", false},
		{"email", "ada@example.com (Ada)", false},
		{"email", " ada@example.com", false},
		{"email", "ada@@example.com", false},
		{"email", "@example.com", false},
		{"email", "ada@", false},
		{"email", "", false},
		// ASCII only (JSON Schema's email; idn-email is another format):
		// invisible and look-alike characters never pass as an address.
		{"email", "ada\u00a0@example.com", false},
		{"email", "ada@exa\u200bmple.com", false},
		{"email", "ad\u0430@example.com", false}, // Cyrillic а
		{"email", "ä@ö.de", false},
		{"email", "ada@xn--bcher-kva.ch", true},
		{"email", "ada@[192.0.2.1]", true},
		{"email", "\"a b\"@example.com", false}, // quoted local part: refused, as documented
		{"email", "~ada!#$%&'*/=?^_`{|}@example.com", true},
		// date-time: RFC 3339; a leap second only at 23:59 UTC.
		{"date-time", "2026-11-30T21:04:05Z", true},
		{"date-time", "2026-11-30T21:04:05.123456789+05:30", true},
		{"date-time", "2026-11-30T21:04:05-00:00", true},
		{"date-time", "2016-12-31T23:59:60Z", true},
		{"date-time", "2016-12-31T23:59:60.5Z", true},
		{"date-time", "2016-12-31T18:59:60-05:00", true},
		{"date-time", "2017-01-01T00:59:60+01:00", true},
		{"date-time", "2016-12-31T23:59:60+00:00", true},
		{"date-time", "2026-11-30T21:04:60Z", false},
		{"date-time", "2016-12-31T23:58:60Z", false},
		{"date-time", "2016-12-31T23:59:60+01:00", false},
		{"date-time", "2016-12-31T22:59:60Z", false},
		{"date-time", "2026-02-30T10:00:00Z", false},
		{"date-time", "2026-11-30T21:04:61Z", false},
		{"date-time", "2026-11-30 21:04:05Z", false},
		{"date-time", "2026-11-30T21:04:05", false},
		{"uuid", "5d0e6a2c-0f55-4b1e-9a5c-3c7f2f1f0d11", true},
		{"uuid", "5D0E6A2C-0F55-4B1E-9A5C-3C7F2F1F0D11", true},
		{"uuid", "00000000-0000-0000-0000-000000000000", true},
		{"uuid", "5d0e6a2c0f554b1e9a5c3c7f2f1f0d11", false},
		{"uuid", "{5d0e6a2c-0f55-4b1e-9a5c-3c7f2f1f0d11}", false},
		{"uuid", "urn:uuid:5d0e6a2c-0f55-4b1e-9a5c-3c7f2f1f0d11", false},
		{"uuid", "5d0e6a2c-0f55-4b1e-9a5c-3c7f2f1f0d1g", false},
		{"uuid", "5d0e6a2c-0f55-4b1e-9a5c-3c7f2f1f0d1", false},
	} {
		v, ok := stringFormats[tc.format]
		if !ok {
			v = openapi3.SchemaStringFormats[tc.format]
		}
		if err := v.Validate(tc.value); (err == nil) != tc.ok {
			t.Errorf("%s %q: %v, want ok=%v", tc.format, tc.value, err, tc.ok)
		}
	}
}

// TestCatalogueConsistent: the embedded contract's catalogue is consistent
// (checkCatalogue), and each way an edit of openapi.yaml can break it is
// caught: by this test at `make test` time, and by CatalogueNames at the
// start, never by a request.
func TestCatalogueConsistent(t *testing.T) {
	load := loadCatalogue
	_, item := load(t)
	if err := checkCatalogue(item); err != nil {
		t.Fatalf("the contract's catalogue: %v", err)
	}
	const (
		order    = "#/components/schemas/OrderPlacedEvent"
		feedback = "#/components/schemas/FeedbackSubmittedEvent"
	)
	schema := func(spec *openapi3.T, name string) *openapi3.Schema { return spec.Components.Schemas[name].Value }
	// rename gives the event schema s the name to instead of from, in its enum and the mapping.
	rename := func(spec *openapi3.T, item *openapi3.Schema, s, from, to string) {
		schema(spec, s).Properties["name"].Value.Enum = []any{to}
		item.Discriminator.Mapping[to] = item.Discriminator.Mapping[from]
		delete(item.Discriminator.Mapping, from)
	}
	for _, tc := range []struct {
		name   string
		mutate func(spec *openapi3.T, item *openapi3.Schema)
		want   string
	}{
		{"a oneOf member without a name in the mapping", func(_ *openapi3.T, item *openapi3.Schema) {
			delete(item.Discriminator.Mapping, "app/feedback.submitted")
		}, "has no name in the discriminator's mapping"},
		{"a mapping name whose schema is not in the oneOf", func(_ *openapi3.T, item *openapi3.Schema) {
			item.Discriminator.Mapping["app/page.viewed"] = openapi3.MappingRef{Ref: "#/components/schemas/PageViewedEvent"}
		}, "not in the oneOf"},
		{"a mapping name that is not the schema's name", func(_ *openapi3.T, item *openapi3.Schema) {
			delete(item.Discriminator.Mapping, "app/feedback.submitted")
			item.Discriminator.Mapping["app/feedback.sent"] = openapi3.MappingRef{Ref: feedback}
		}, `exactly one enum value, "app/feedback.sent"`},
		{"two schemas with the same name", func(spec *openapi3.T, _ *openapi3.Schema) {
			schema(spec, "FeedbackSubmittedEvent").Properties["name"].Value.Enum = []any{"shop/order.placed"}
		}, `exactly one enum value, "app/feedback.submitted"`},
		{"a name with two enum values", func(spec *openapi3.T, _ *openapi3.Schema) {
			schema(spec, "OrderPlacedEvent").Properties["name"].Value.Enum = []any{"shop/order.placed", "shop/order.made"}
		}, "exactly one enum value"},
		{"one schema under two names", func(_ *openapi3.T, item *openapi3.Schema) {
			item.Discriminator.Mapping["shop/order.made"] = openapi3.MappingRef{Ref: order}
		}, "shop/order.made"},
		{"a oneOf member twice", func(_ *openapi3.T, item *openapi3.Schema) {
			item.OneOf = append(item.OneOf, item.OneOf[0])
		}, "twice"},
		{"an inline oneOf member", func(_ *openapi3.T, item *openapi3.Schema) {
			item.OneOf = append(item.OneOf, openapi3.NewSchemaRef("", openapi3.NewObjectSchema()))
		}, "not a $ref"},
		{"an event that allows other members", func(spec *openapi3.T, _ *openapi3.Schema) {
			yes := true
			schema(spec, "OrderPlacedEvent").AdditionalProperties = openapi3.AdditionalProperties{Has: &yes}
		}, "additionalProperties must be false"},
		{"an event that does not require data", func(spec *openapi3.T, _ *openapi3.Schema) {
			schema(spec, "FeedbackSubmittedEvent").Required = []string{"name"}
		}, "name and data must be required"},
		{"an event without a data schema", func(spec *openapi3.T, _ *openapi3.Schema) {
			delete(schema(spec, "FeedbackSubmittedEvent").Properties, "data")
		}, "no data schema"},
		{"a discriminator on another member", func(_ *openapi3.T, item *openapi3.Schema) {
			item.Discriminator.PropertyName = "type"
		}, `on "type"`},
		{"a name Inngest reserves (inngest/…)", func(spec *openapi3.T, item *openapi3.Schema) {
			rename(spec, item, "OrderPlacedEvent", "shop/order.placed", "inngest/order.placed")
		}, `the event name "inngest/order.placed": names starting with inngest/ (in any letter case) are reserved by Inngest`},
		{"an empty name", func(spec *openapi3.T, item *openapi3.Schema) {
			rename(spec, item, "OrderPlacedEvent", "shop/order.placed", "")
		}, `the event name "": must not be empty`},
		{"a name longer than Inngest takes", func(spec *openapi3.T, item *openapi3.Schema) {
			rename(spec, item, "OrderPlacedEvent", "shop/order.placed", "shop/"+strings.Repeat("x", 251))
		}, "longer than 255 bytes"},
		{"no mapping", func(_ *openapi3.T, item *openapi3.Schema) {
			item.Discriminator.Mapping = nil
		}, "no discriminator mapping"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec, item := load(t)
			tc.mutate(spec, item)
			err := checkCatalogue(item)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("checkCatalogue = %v, want an error with %q", err, tc.want)
			}
			if _, err := catalogueNames(spec); err == nil {
				t.Error("catalogueNames takes the broken catalogue")
			}
		})
	}
}

// loadCatalogue is a fresh copy of the embedded contract and its catalogue
// schema (CatalogueEvent), for a test to read or to break.
func loadCatalogue(t testing.TB) (*openapi3.T, *openapi3.Schema) {
	t.Helper()
	spec, err := gen.GetSpec()
	if err != nil {
		t.Fatal(err)
	}
	item, err := catalogueSchema(spec)
	if err != nil {
		t.Fatal(err)
	}
	return spec, item
}
