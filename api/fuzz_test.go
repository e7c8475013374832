package api_test

import (
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
