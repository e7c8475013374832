package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzPostRoute sends arbitrary bodies, content types, cookies and
// Authorization headers through the full handler: whatever arrives, the
// answer is never a 5xx and always matches openapi.yaml. `go test` runs the
// seeds; `go test ./api -fuzz FuzzPostRoute -fuzztime 1m` explores further.
func FuzzPostRoute(f *testing.F) {
	good := cookieFor(f, adaClaims).Value
	f.Add(`{"data":"data"}`, "application/json", good, "")
	f.Add(`{"data":null}`, "application/json", good, "")
	f.Add(`{"data":1,"x":2}`, "application/json", good, "k")
	f.Add(`{"data":`, "application/json; charset=utf-8", good, "")
	f.Add(`[]`, "text/plain", "", "Bearer x")
	f.Add(`{"data":{"a":[1,2,3]}}`, "application/json", good[:len(good)-2], "")
	f.Add("\x00\xff", "application/json", "a.b.c.d.e", "Bearer a.b.c.d.e")
	f.Add(`{"data":"\ud800"}`, "application/JSON", "", "bearer "+good)
	f.Add(`{"data":{"n":[1e400,9007199254740993],"k":1,"k":2}}`, "application/json", good, "")
	f.Add("{\"data\":\"caf\xe9\"}", "application/json; charset=iso-8859-1", good, "")
	f.Add(`{"data":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`, "application/json", good, "")
	f.Add(`{"data":"\ud83d\ude00","data":1}`, "application/json", good, "")
	f.Fuzz(func(t *testing.T, body, contentType, cookie, authorization string) {
		h := newHarness(t, options{discardLogs: true})
		req := httptest.NewRequest(http.MethodPost, "/api/route", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		if cookie != "" {
			req.Header.Set("Cookie", "next-auth.session-token="+cookie)
		}
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		rec := httptest.NewRecorder()
		h.handler.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for body %q: %s", rec.Code, body, rec.Body)
		}
		checkAgainstSpec(t, req, rec)
	})
}

// FuzzSendEvents sends arbitrary bodies as POST /api/events with a valid
// session: whatever arrives, the answer is never a 5xx and always matches
// openapi.yaml, and a 200 published exactly the events the body holds, each
// with its data as sent. `go test ./api -fuzz FuzzSendEvents -fuzztime 1m`
// explores further.
func FuzzSendEvents(f *testing.F) {
	f.Add(batch(feedbackName, feedback))
	f.Add(batch(orderName, order, feedbackName, feedback))
	f.Add(batch("nope", `{}`))
	f.Add(`{"events":[{"name":null,"data":1},{"data":{}},[],1,"x"]}`)
	f.Add(`{"events":[]}`)
	f.Add(`{"events":{}}`)
	f.Add(batch(feedbackName, `{"rating":4,"rating":5,"page":{"path":"/"}}`))
	f.Add(batch(feedbackName, `{"rating":4,"page":{"path":"/","title":"\ud800"}}`))
	f.Add(batch(orderName, `{"orderId":"ord_1","currency":"EUR","total":1,"items":[{"sku":"a","quantity":1,"unitPrice":9007199254740993}]}`))
	f.Add(batch(feedbackName, `{"rating":4,"page":{"path":"/"},"tags":["bug","bug","idea","praise"],"email":"x"}`))
	f.Add(`{"events":[{"name":"app/feedback.submitted","name":"shop/order.placed","data":` + order + `}]}`)
	f.Fuzz(func(t *testing.T, body string) {
		h := newHarness(t, options{discardLogs: true, settings: fakeSettings{s: eventsSettings()}})
		r := postEvents(t, body)
		rec := httptest.NewRecorder()
		h.handler.ServeHTTP(rec, r.build())
		if rec.Code >= 500 {
			t.Fatalf("status %d for body %q: %s", rec.Code, body, rec.Body)
		}
		checkAgainstSpec(t, r.build(), rec)
		if rec.Code != http.StatusOK {
			if len(h.pub.events) != 0 {
				t.Fatalf("status %d published %d events", rec.Code, len(h.pub.events))
			}
			return
		}
		var sent struct {
			Events []struct {
				Data json.RawMessage `json:"data"`
			} `json:"events"`
		}
		if err := json.Unmarshal([]byte(body), &sent); err != nil {
			t.Fatalf("a 200 for a body encoding/json refuses: %v", err)
		}
		if len(h.pub.events) != len(sent.Events) {
			t.Fatalf("published %d events for %d sent", len(h.pub.events), len(sent.Events))
		}
		for i, e := range sent.Events {
			if string(h.pub.events[i].Data.Data) != string(e.Data) {
				t.Fatalf("event %d: data %s, sent %s", i, h.pub.events[i].Data.Data, e.Data)
			}
		}
	})
}
