package api_test

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/routeapi/routeapi/internal/events"
	"github.com/routeapi/routeapi/internal/settings"
)

// TestAcceptanceRules: a body Inngest would refuse or store changed gets 400
// with a pointer at the member, and publishes nothing; one it keeps as sent
// is published byte for byte. (internal/rawjson tests every rule at its
// boundaries; e2e/acceptance_test.go checks them against the real Inngest.)
func TestAcceptanceRules(t *testing.T) {
	cookie := cookieFor(t, adaClaims)
	set := goodSettings()
	set.Route.MaxBodyBytes = 64 << 10
	for _, tc := range []struct {
		body, pointer string
	}{
		{"{\"data\":\"caf\xe9\"}", "/data"},
		{`{"data":{"a":["\ud800"]}}`, "/data/a/0"},
		{`{"data":{"k":1,"k":2}}`, "/data/k"},
		{`{"data":[1e400]}`, "/data/0"},
		{`{"data":{"n":9007199254740993}}`, "/data/n"},
		{`{"data":{"n":12345678901234567890}}`, "/data/n"},
		{`{"data":1e-400}`, "/data"},
		{`{"data":` + strings.Repeat("[", settings.MaxDataDepth+1) + strings.Repeat("]", settings.MaxDataDepth+1) + `}`, "/data" + strings.Repeat("/0", settings.MaxDataDepth)},
		{`{"data":1,"data":2}`, "/data"},
	} {
		t.Run(tc.body[:min(len(tc.body), 40)], func(t *testing.T) {
			h := newHarness(t, options{settings: fakeSettings{s: set}})
			rec := h.serve(t, request{body: tc.body, cookies: []*http.Cookie{cookie}})
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", rec.Code, rec.Body)
			}
			p := decodeProblem(t, rec)
			if p.Errors == nil || len(*p.Errors) != 1 || (*p.Errors)[0].Pointer != tc.pointer {
				t.Fatalf("errors %+v, want one at %q", p.Errors, tc.pointer)
			}
			if len(h.pub.events) != 0 {
				t.Fatalf("published %d events", len(h.pub.events))
			}
		})
	}
	for _, data := range []string{`"\u0000"`, `"x\ud83d\ude00"`, `[-0, 1.0, 1E2, 0.1, 9007199254740992, 5e-324, 1.7976931348623157e308]`,
		strings.Repeat("[", settings.MaxDataDepth) + strings.Repeat("]", settings.MaxDataDepth), `{"a":{"a":1},"b":{"a":1}}`} {
		h := newHarness(t, options{settings: fakeSettings{s: set}})
		rec := h.serve(t, request{body: `{"data":` + data + `}`, cookies: []*http.Cookie{cookie}})
		if rec.Code != http.StatusOK || len(h.pub.events) != 1 || string(h.pub.events[0].Data.Data) != data {
			t.Fatalf("data %.60s: status %d, events %d: %s", data, rec.Code, len(h.pub.events), rec.Body)
		}
	}
}

// TestAcceptanceAfterAuthentication: a request without a credential gets
// 401 whatever its data, as before the check.
func TestAcceptanceAfterAuthentication(t *testing.T) {
	h := newHarness(t, options{})
	rec := h.serve(t, request{body: `{"data":"\ud800"}`})
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401: %s", rec.Code, rec.Body)
	}
}

// TestContentCodingAndCharset: a content coding routeapi does not decode,
// and a charset other than UTF-8, get 415 (the examples: br on a
// plain body, a real gzip body, ISO-8859-1); identity and UTF-8 go through.
func TestContentCodingAndCharset(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(`{"data":2}`))
	_ = zw.Close()
	cookie := cookieFor(t, adaClaims)
	for _, tc := range []struct {
		name, body string
		headers    map[string]string
		want       int
	}{
		{"br on a plain body", `{"data":2}`, map[string]string{"Content-Encoding": "br"}, 415},
		{"real gzip", gz.String(), map[string]string{"Content-Encoding": "gzip"}, 415},
		{"gzip, identity", `{"data":2}`, map[string]string{"Content-Encoding": "identity, gzip"}, 415},
		{"identity", `{"data":2}`, map[string]string{"Content-Encoding": "identity"}, 200},
		{"iso-8859-1", "{\"data\":\"caf\xe9\"}", map[string]string{"Content-Type": "application/json; charset=iso-8859-1"}, 415},
		{"iso-8859-1, ASCII body", `{"data":2}`, map[string]string{"Content-Type": "application/json; charset=ISO-8859-1"}, 415},
		{"utf-8", `{"data":"café"}`, map[string]string{"Content-Type": "application/json; charset=UTF-8"}, 200},
		{"no charset, Latin-1 byte", "{\"data\":\"caf\xe9\"}", nil, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, options{})
			rec := h.serve(t, request{body: tc.body, headers: tc.headers, cookies: []*http.Cookie{cookie}})
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.want, rec.Body)
			}
			if tc.want == 415 && tc.headers["Content-Encoding"] != "" && rec.Header().Get("Accept-Encoding") != "identity" {
				t.Errorf("Accept-Encoding %q, want identity (RFC 9110 §15.5.16)", rec.Header().Get("Accept-Encoding"))
			}
			if tc.want != 200 && len(h.pub.events) != 0 {
				t.Fatalf("published %d events", len(h.pub.events))
			}
		})
	}
}

// TestEventSizeLimit: the event (data with user, public settings and
// envelope) may be exactly inngest.maxEventBytes; one byte more is 413,
// whatever the body limit, and nothing is published.
func TestEventSizeLimit(t *testing.T) {
	const limit = 2000
	set := goodSettings()
	set.Route.MaxBodyBytes = 4000 // larger than fits: only code-built settings can do this
	set.Inngest.MaxEventBytes = limit
	cookie := cookieFor(t, adaClaims)
	send := func(data string) (int, *harness, string) {
		h := newHarness(t, options{settings: fakeSettings{s: set}})
		rec := h.serve(t, request{body: `{"data":` + data + `}`, cookies: []*http.Cookie{cookie}, headers: map[string]string{"X-Request-Id": "req-1"}})
		return rec.Code, h, rec.Body.String()
	}
	code, h, body := send(`""`)
	if code != 200 {
		t.Fatalf("status %d: %s", code, body)
	}
	size := encodedSize(t, h.pub.events[0])
	fits := `"` + strings.Repeat("x", limit-size) + `"`
	if code, h, body := send(fits); code != 200 || len(h.pub.events) != 1 {
		t.Fatalf("event of exactly %d bytes: status %d: %s", limit, code, body)
	} else if n := encodedSize(t, h.pub.events[0]); n != limit {
		t.Fatalf("event of %d bytes, want %d", n, limit)
	}
	code, h, body = send(`"` + strings.Repeat("x", limit-size+1) + `"`)
	if code != http.StatusRequestEntityTooLarge || len(h.pub.events) != 0 || !strings.Contains(body, "inngest.maxEventBytes") {
		t.Fatalf("event of %d bytes: status %d, %d events: %s", limit+1, code, len(h.pub.events), body)
	}
}

// TestContentTypeAmbiguous: a Content-Type whose charset cannot be read
// (the parameter twice, a parameter without a value) or a request with two
// Content-Type fields gets 415, like a charset other than UTF-8: the body
// might be Latin-1 whose bytes happen to be UTF-8 ("Ã©" sent as C3 A9 would
// reach Inngest as "é"). Nothing is published.
func TestContentTypeAmbiguous(t *testing.T) {
	cookie := cookieFor(t, adaClaims)
	body := "{\"data\":\"\xc3\xa9\"}"
	for _, tc := range []struct {
		name  string
		types []string
		want  int
	}{
		{"charset twice", []string{"application/json; charset=utf-8; charset=iso-8859-1"}, 415},
		{"charset twice, same value", []string{"application/json; charset=utf-8; charset=utf-8"}, 200},
		{"charset without a value", []string{"application/json; charset="}, 415},
		{"a parameter without a value", []string{"application/json; charset"}, 415},
		{"two fields", []string{"application/json", "application/json; charset=iso-8859-1"}, 415},
		{"two equal fields", []string{"application/json", "application/json"}, 415},
		{"RFC 2231 charset", []string{"application/json; charset*=utf-8''iso-8859-1"}, 415},
		{"trailing semicolon", []string{"application/json;"}, 200},
		{"quoted UTF-8", []string{`application/json; charset="UTF-8"`}, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, options{})
			req := request{body: body, cookies: []*http.Cookie{cookie}}.build()
			req.Header.Del("Content-Type")
			for _, ct := range tc.types {
				req.Header.Add("Content-Type", ct)
			}
			rec := httptest.NewRecorder()
			h.handler.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.want, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); tc.want != 200 && ct != "application/problem+json" {
				t.Errorf("Content-Type %q", ct)
			}
			if tc.want != 200 && len(h.pub.events) != 0 {
				t.Fatalf("published %d events", len(h.pub.events))
			}
		})
	}
}

// encodedSize is the size of e as the publisher sends it.
func encodedSize(t *testing.T, e events.Event) int {
	t.Helper()
	enc, err := events.Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	return len(enc)
}
