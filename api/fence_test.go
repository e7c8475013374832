package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/go-chi/chi/v5"

	"github.com/routeapi/routeapi/gen"
	"github.com/routeapi/routeapi/internal/session"
	"github.com/routeapi/routeapi/internal/settings"
)

type fixedSettings struct{ s settings.Settings }

func (f fixedSettings) Current() (settings.Settings, error) { return f.s, nil }

// TestFenceLeavesOtherOperations builds the body pipeline of every
// operation (Server.bodyMiddlewares, as routes mounts it) from the contract
// plus a second JSON operation, POST /api/other, and shows that its body
// reaches the validator and the handler as sent, while POST /api/route's
// data alone is shrunk for the validator and reaches the handler through
// routeData unchanged.
func TestFenceLeavesOtherOperations(t *testing.T) {
	spec, err := gen.GetSpec()
	if err != nil {
		t.Fatal(err)
	}
	person := openapi3.NewObjectSchema().
		WithProperty("name", openapi3.NewStringSchema()).
		WithProperty("age", openapi3.NewIntegerSchema())
	person.Required = []string{"name", "age"}
	op := openapi3.NewOperation()
	op.OperationID = "postOther"
	op.Security = &openapi3.SecurityRequirements{}
	op.RequestBody = &openapi3.RequestBodyRef{Value: openapi3.NewRequestBody().WithRequired(true).WithJSONSchema(person)}
	op.Responses = openapi3.NewResponses(openapi3.WithStatus(204, &openapi3.ResponseRef{Value: openapi3.NewResponse().WithDescription("ok")}))
	spec.AddOperation("/api/other", http.MethodPost, op)
	if err := spec.Validate(context.Background()); err != nil {
		t.Fatalf("extended spec: %v", err)
	}

	set := settings.Settings{Route: settings.Route{Enabled: true, Event: "e", MaxBodyBytes: 1 << 20}}
	s := &Server{settings: fixedSettings{set}, fence: fenceBody(shrinkSafe(spec))}
	mws := s.bodyMiddlewares(validator(spec, session.CookieNames(false)))
	chain := func(h http.Handler) http.Handler {
		for i := len(mws) - 1; i >= 0; i-- {
			h = mws[i](h)
		}
		return h
	}
	var seen, data string
	record := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		seen = string(b)
		if d, err := routeData(r.Context(), nil); err == nil {
			data = string(d)
		}
		w.WriteHeader(http.StatusNoContent)
	})
	r := chi.NewRouter()
	r.Use(requestID(slog.New(slog.DiscardHandler)))
	r.Method(http.MethodPost, "/api/other", chain(record))
	r.Method(http.MethodPost, routePath, chain(record))
	serve := func(path, body string) *httptest.ResponseRecorder {
		seen, data = "", ""
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.AddCookie(&http.Cookie{Name: session.CookieName, Value: "x"})
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		return rec
	}

	// The scratch test: {"name":"alice","age":7} reached the second
	// operation as {"name":0,"age":0}.
	body := `{"name":"alice","age":7}`
	if rec := serve("/api/other", body); rec.Code != http.StatusNoContent || seen != body {
		t.Fatalf("POST /api/other: status %d, handler saw %q, want %q: %s", rec.Code, seen, body, rec.Body)
	}
	// The validator sees the real values: a wrong type is refused at its member.
	rec := serve("/api/other", `{"name":"alice","age":"seven"}`)
	var p gen.Problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || rec.Code != http.StatusBadRequest || p.Errors == nil || (*p.Errors)[0].Pointer != "/age" {
		t.Fatalf("POST /api/other with a string age: status %d: %s", rec.Code, rec.Body)
	}
	// A body the fence would refuse on the route is not its business here.
	if rec := serve("/api/other", `{"name":"\ud800","age":9007199254740993}`); rec.Code != http.StatusNoContent {
		t.Fatalf("POST /api/other: status %d: %s", rec.Code, rec.Body)
	}
	// POST /api/route: only data is replaced (by 0) for the validator and
	// the strict server; routeData gives it back as sent.
	routeBody := ` {"data" : {"a": [1, "x"], "n": 1.0} } `
	if rec := serve(routePath, routeBody); rec.Code != http.StatusNoContent || seen != ` {"data" : 0 } ` || data != `{"a": [1, "x"], "n": 1.0}` {
		t.Fatalf("POST /api/route: status %d, handler saw %q and data %q: %s", rec.Code, seen, data, rec.Body)
	}
}
