package api

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/routeapi/routeapi/gen"
	"github.com/routeapi/routeapi/internal/session"
	"github.com/routeapi/routeapi/internal/settings"
)

// routeCredentials are the credentials the route's differential tests send
// (the validator checks only that one is there, credentialPresent): a
// session cookie, a bearer token, an API token, and none or only what does
// not count as one.
var routeCredentials = []struct {
	name string
	set  func(*http.Request)
}{
	{"cookie", func(r *http.Request) { r.AddCookie(&http.Cookie{Name: session.CookieName, Value: "x"}) }},
	{"bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer eyJhbGciOiJkaXIifQ..a.b.c") }},
	{"api token", func(r *http.Request) { r.Header.Set("Authorization", "Bearer rk_0123456789abcdef") }},
	{"none", func(*http.Request) {}},
	{"empty cookie", func(r *http.Request) { r.Header.Set("Cookie", session.CookieName+"=") }},
	{"other cookie", func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "theme", Value: "dark"}) }},
	{"empty bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer ") }},
	{"basic", func(r *http.Request) { r.Header.Set("Authorization", "Basic dXNlcjpwYXNz") }},
	{"lower-case bearer", func(r *http.Request) { r.Header.Set("Authorization", "bearer rk_x") }},
}

// routeKeys are the Idempotency-Key headers the route's differential tests
// send: none, valid ones (1 and 255 visible ASCII characters) and invalid
// ones (empty, 256 characters, a space, a non-ASCII letter, a control
// character), and a key sent twice.
var routeKeys = []struct {
	name   string
	values []string
}{
	{"none", nil},
	{"uuid", []string{"0b7e8f3c-2a4d-4e1b-9c3f-6d5a7b8c9d0e"}},
	{"1 char", []string{"!"}},
	{"255 chars", []string{strings.Repeat("~", 255)}},
	{"empty", []string{""}},
	{"256 chars", []string{strings.Repeat("k", 256)}},
	{"space", []string{"a b"}},
	{"non-ASCII", []string{"caf\u00e9"}},
	{"control", []string{"a\x7f"}},
	{"twice", []string{"k1", "k2"}},
}

// routeContentTypes are the content types the route's differential tests
// send: quickContentTypes and more parameters and casings.
var routeContentTypes = append(append([]string(nil), quickContentTypes...),
	"APPLICATION/JSON; CHARSET=UTF-8", " application/json ; charset=\"utf-8\"", "application/json; foo=bar", "application/json;",
	"application/jsonx", "application/problem+json", "application/*", "application/x-www-form-urlencoded", "application/json, text/plain")

// routeRequest is POST /api/route with body, the content type ct (none when
// empty), the credential and the Idempotency-Key values of key.
func routeRequest(body, ct string, cred int, key []string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, routePath, strings.NewReader(body))
	if ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	routeCredentials[cred].set(r)
	for _, k := range key {
		r.Header.Add("Idempotency-Key", k)
	}
	return r
}

// routeValidSeeds are RouteRequest bodies the validator takes: data of
// every JSON type, from 1 byte to 64 KiB, unicode, escapes and white space.
func routeValidSeeds() []string {
	obj := `{"orderId":"ord_123","items":2,"tags":["a","b"],"nested":{"ok":true,"none":null,"n":-1.5e-3}}`
	big := `{"rows":[` + strings.Repeat(obj+",", 64*1024/len(obj)) + obj + `]}`
	return []string{
		`{"data":"data"}`,
		`{"data":{"orderId":"ord_123","items":2}}`,
		`{"data":[1,2,3]}`,
		`{"data":0}`,
		`{"data":"x"}`,
		`{"data":""}`,
		`{"data":true}`,
		`{"data":false}`,
		`{"data":{}}`,
		`{"data":[]}`,
		`{"data":[null]}`,
		`{"data":{"a":null}}`,
		`{"data":-0}`,
		`{"data":1.0}`,
		`{"data":1E2}`,
		`{"data":9007199254740992}`,
		`{"data":1.7976931348623157e308}`,
		`{"data":"` + strings.Repeat("d", 1024) + `"}`,
		`{"data":` + obj + `}`,
		`{"data":` + big + `}`,
		`{"data":"caf` + "\u00e9 \U0001F600 \u2028" + `"}`,
		`{"data":"caf\u00e9 \ud83d\ude00 \n\t\"\\\/ \u0000"}`,
		`{"data":{"caf\u00e9":1,"cafe\u0301":2}}`,
		" \t\n{ \"data\" : [ 1 , { \"a\" : \"b\" } ] }\r\n",
		`{"data":` + strings.Repeat("[", settings.MaxDataDepth) + strings.Repeat("]", settings.MaxDataDepth) + `}`,
	}
}

// routeBrokenSeeds are bodies the validator or the fence refuses, or takes
// only as sent (data null): of each kind the route answers.
func routeBrokenSeeds() []string {
	return []string{
		`{"data":null}`,
		`{}`,
		`{"data":1,"user":"x"}`,
		`{"user":{"id":"u"},"data":"x"}`,
		`{"Data":1}`,
		`{"data":1,"data":2}`,
		`{"data":{"a":1,"a":2}}`,
		`{"data":{"caf\u00e9":1,"café":2}}`,
		`{"data":9007199254740993}`,
		`{"data":1e400}`,
		`{"data":1e-400}`,
		`{"data":99999999999999991611392}`,
		"{\"data\":\"\xff\"}",
		"{\"data\":\"\xed\xa0\x80\"}",
		`{"data":"\ud800"}`,
		`{"data":"\udc00x"}`,
		`{"data":{"\ud800":1}}`,
		`{"data":1} trailing`,
		`{"data":1}{"data":2}`,
		`{"data":1}]`,
		`{"data":`,
		`{"data":01}`,
		`{"data":'x'}`,
		`{"data":1,}`,
		`{"data":` + strings.Repeat("[", settings.MaxDataDepth+1) + strings.Repeat("]", settings.MaxDataDepth+1) + `}`,
		`[]`,
		`[{"data":1}]`,
		`1`,
		`"data"`,
		`true`,
		`null`,
		``,
		` `,
		"\ufeff{\"data\":1}",
		`{"data":"` + strings.Repeat("\\u0041", 200) + `"}`,
	}
}

// TestQuickValidationRouteSameAnswer: for POST /api/route, quickValidation
// takes the valid bodies (with every credential the route accepts, with and
// without a valid Idempotency-Key: the path BenchmarkValidation measures),
// refuses nothing itself, and the validator answers every seed, with every
// content type, credential and Idempotency-Key, exactly as the full
// validator alone.
func TestQuickValidationRouteSameAnswer(t *testing.T) {
	c := newValidationChains(t)
	valid := routeValidSeeds()
	taken := 0
	for i, body := range append(valid, routeBrokenSeeds()...) {
		for cred := range routeCredentials {
			for _, ct := range routeContentTypes {
				if c.sameAnswerTo(t, func() *http.Request { return routeRequest(body, ct, cred, nil) }) {
					taken++
				}
			}
			for _, key := range routeKeys {
				if c.sameAnswerTo(t, func() *http.Request { return routeRequest(body, "application/json", cred, key.values) }) {
					taken++
				}
			}
		}
		if i >= len(valid) {
			continue
		}
		for cred, cr := range routeCredentials[:3] {
			for _, key := range routeKeys[:4] {
				for _, ct := range []string{"application/json", "application/json; charset=utf-8", "APPLICATION/JSON; CHARSET=UTF-8"} {
					if !c.sameAnswerTo(t, func() *http.Request { return routeRequest(body, ct, cred, key.values) }) {
						t.Errorf("quickValidation does not take the valid body %.80q (%s, key %s, Content-Type %q)", body, cr.name, key.name, ct)
					}
				}
			}
		}
	}
	if taken == 0 {
		t.Fatal("quickValidation took no route request")
	}
}

// TestQuickValidationRouteShrunkBody: quickValidation reads the body the
// validator reads: the route's body with data shrunk to 0, not the body as
// sent (a large data is not decoded again), and the body as sent when the
// fence leaves it so (data null, a broken body).
func TestQuickValidationRouteShrunkBody(t *testing.T) {
	spec, err := gen.GetSpec()
	if err != nil {
		t.Fatal(err)
	}
	if !shrinkSafe(spec) {
		t.Fatal("the contract constrains the route's data: nothing is shrunk")
	}
	var seen, read []byte
	router := chi.NewRouter()
	router.With(limitBody(func(*http.Request) int64 { return 1 << 20 }), fenceBody(true)).Post(routePath, func(_ http.ResponseWriter, r *http.Request) {
		seen, read = nil, nil
		if st := stateFrom(r.Context()); st != nil && st.route != nil {
			seen = st.route.validated
		}
		read, _ = io.ReadAll(r.Body)
	})
	for _, tc := range []struct{ body, validated string }{
		{`{"data":{"orderId":"ord_123","items":2}}`, `{"data":0}`},
		{` { "user" : 1 , "data" : [1,2,3] } `, ` { "user" : 1 , "data" : 0 } `},
		{`{"data":"` + strings.Repeat("d", 64<<10) + `"}`, `{"data":0}`},
		{`{"data":null}`, `{"data":null}`},
		{`{}`, `{}`},
		{`{"data":"\ud800"}`, ""},
		{`{"data":1} x`, ""},
	} {
		router.ServeHTTP(httptest.NewRecorder(), routeRequest(tc.body, "application/json", 0, nil))
		if string(seen) != tc.validated {
			t.Errorf("body %.80q: quickValidation reads %q, want %q", tc.body, seen, tc.validated)
		}
		if seen != nil && string(read) != string(seen) {
			t.Errorf("body %.80q: the validator reads %q, quickValidation %q", tc.body, read, seen)
		}
	}
}

// FuzzRouteSameAnswer: for any body, content type, credential and
// Idempotency-Key, POST /api/route's validator with quickValidation first
// answers exactly (status, headers, problem with its pointers and details,
// the body the handler gets) as kin-openapi's full validator alone, and
// quickValidation takes no request the full validator refuses. Seeded with
// routeValidSeeds and routeBrokenSeeds; `go test ./api -run '^$' -fuzz
// FuzzRouteSameAnswer` explores further.
func FuzzRouteSameAnswer(f *testing.F) {
	for _, body := range append(routeValidSeeds(), routeBrokenSeeds()...) {
		f.Add(body, uint8(0), uint8(0), "")
	}
	for i, key := range routeKeys {
		if len(key.values) == 1 {
			f.Add(routeValidSeeds()[1], uint8(i), uint8(i), key.values[0])
		}
	}
	c := newValidationChains(f)
	f.Fuzz(func(t *testing.T, body string, ct, cred uint8, key string) {
		var keys []string
		if cred&0x80 != 0 || key != "" {
			keys = []string{key}
		}
		c.sameAnswerTo(t, func() *http.Request {
			return routeRequest(body, routeContentTypes[int(ct)%len(routeContentTypes)], int(cred&0x7f)%len(routeCredentials), keys)
		})
	})
}
