package inngest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/events"
	"github.com/routeapi/routeapi/internal/inngest"
	"github.com/routeapi/routeapi/internal/settings"
	"github.com/routeapi/routeapi/internal/user"
)

const key = "signkey-test-0123abc"

var (
	testSettings = settings.Settings{
		Route:  settings.Route{Enabled: true, Event: "app/route.requested", MaxBodyBytes: 1024},
		Public: map[string]any{"appName": "Example", "limits": map[string]any{"perDay": 10}},
	}
	testUser = user.User{ID: "user_42", Email: "ada@example.com", Name: "Ada Lovelace", Image: "https://example.com/ada.png"}
	testNow  = time.UnixMilli(1795733909056)
)

func TestClientSend(t *testing.T) {
	var got *http.Request
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, body = r, must(io.ReadAll(r.Body))
		_, _ = io.WriteString(w, `{"ids":["01A","01B"],"status":200}`)
	}))
	defer srv.Close()
	c, err := inngest.NewClient(inngest.ClientConfig{EventKey: key, BaseURL: srv.URL + "/", Env: "branch-x", Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	e, _ := events.Build(testSettings.Route.Event, testSettings.Public, testUser, events.Request{Data: json.RawMessage(`{"n":12345678901234567890}`)}, testNow)
	one, err := events.Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := c.Send(context.Background(), []json.RawMessage{one, one})
	if err != nil || len(ids) != 2 || ids[1] != "01B" {
		t.Fatalf("Send = %v, %v", ids, err)
	}
	if got.Method != http.MethodPost || got.URL.Path != "/e/"+key || got.Header.Get("Content-Type") != "application/json" ||
		got.Header.Get("X-Inngest-Env") != "branch-x" || !regexp.MustCompile(`^\d+,[A-Za-z0-9+/=]{16}$`).MatchString(got.Header.Get("X-Inngest-Event-Id-Seed")) {
		t.Errorf("request %s %s %v", got.Method, got.URL.Path, got.Header)
	}
	var arr []map[string]any
	if err := json.Unmarshal(body, &arr); err != nil || len(arr) != 2 || arr[0]["id"] != e.ID {
		t.Fatalf("body %s: %v", body, err)
	}
	if !strings.Contains(string(body), `"n":12345678901234567890`) {
		t.Errorf("body does not carry data unchanged: %s", body)
	}
}

func TestClientErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   error
	}{
		{"400", 400, `{"error":"bad","status":400}`, inngest.ErrRejected},
		{"401 echoing the key", 401, `{"error":"key ` + key + ` not found"}`, inngest.ErrRejected},
		{"500", 500, `{"error":"boom"}`, inngest.ErrUnavailable},
		{"503 empty", 503, ``, inngest.ErrUnavailable},
		{"408", 408, ``, inngest.ErrUnavailable},
		{"425", 425, ``, inngest.ErrUnavailable},
		{"429 rate limited", 429, `{"error":"slow down"}`, inngest.ErrUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			c, _ := inngest.NewClient(inngest.ClientConfig{EventKey: key, BaseURL: srv.URL, Timeout: time.Second})
			_, err := c.Send(context.Background(), []json.RawMessage{json.RawMessage(`{"name":"x","data":{}}`)})
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if strings.Contains(err.Error(), key) {
				t.Errorf("error leaks the key: %v", err)
			}
		})
	}

	// A 2xx is accepted even when it does not name one id per event: the
	// events are in Inngest, only their internal ids are unknown.
	for _, body := range []string{`{"ids":[]}`, `<html>`} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, body)
		}))
		c, _ := inngest.NewClient(inngest.ClientConfig{EventKey: key, BaseURL: srv.URL, Timeout: time.Second})
		ids, err := c.Send(context.Background(), []json.RawMessage{json.RawMessage(`{"name":"x","data":{}}`)})
		srv.Close()
		if err != nil || len(ids) != 1 || ids[0] != "" {
			t.Errorf("200 %s: Send = %q, %v; want one unknown id and no error", body, ids, err)
		}
	}

	// Refused connection: unavailable, key redacted; a hung server: timeout, promptly.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	c, _ := inngest.NewClient(inngest.ClientConfig{EventKey: key, BaseURL: dead.URL, Timeout: time.Second})
	_, err := c.Send(context.Background(), []json.RawMessage{json.RawMessage(`{}`)})
	if !errors.Is(err, inngest.ErrUnavailable) || strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), "[event-key]") {
		t.Errorf("refused: %v", err)
	}
	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	defer hung.Close()
	defer close(release)
	c, _ = inngest.NewClient(inngest.ClientConfig{EventKey: key, BaseURL: hung.URL, Timeout: 200 * time.Millisecond})
	start := time.Now()
	_, err = c.Send(context.Background(), []json.RawMessage{json.RawMessage(`{}`)})
	if !errors.Is(err, inngest.ErrTimeout) || time.Since(start) > 5*time.Second {
		t.Errorf("hung: %v after %s", err, time.Since(start))
	}
}

func TestNewClientErrors(t *testing.T) {
	for _, cfg := range []inngest.ClientConfig{
		{EventKey: key, BaseURL: "http://x"},
		{EventKey: key, Timeout: time.Second},
		{BaseURL: "http://x", Timeout: time.Second},
	} {
		if _, err := inngest.NewClient(cfg); err == nil {
			t.Errorf("NewClient(%+v) succeeded", cfg)
		}
	}
	if _, err := inngest.NewClient(inngest.ClientConfig{BaseURL: "http://x", Timeout: time.Second, Dev: true}); err != nil {
		t.Errorf("dev mode without a key: %v", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
