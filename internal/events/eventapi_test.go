package events_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/events"
)

const key = "signkey-test-0123abc"

func TestClientSend(t *testing.T) {
	var got *http.Request
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, body = r, must(io.ReadAll(r.Body))
		_, _ = io.WriteString(w, `{"ids":["01A","01B"],"status":200}`)
	}))
	defer srv.Close()
	c, err := events.NewClient(events.ClientConfig{EventKey: key, BaseURL: srv.URL + "/", Env: "branch-x", Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	e, _ := events.Build(testSettings, testUser, events.Request{Data: json.RawMessage(`{"n":12345678901234567890}`)}, testNow)
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
		{"400", 400, `{"error":"bad","status":400}`, events.ErrRejected},
		{"401 echoing the key", 401, `{"error":"key ` + key + ` not found"}`, events.ErrRejected},
		{"500", 500, `{"error":"boom"}`, events.ErrUnavailable},
		{"503 empty", 503, ``, events.ErrUnavailable},
		{"408", 408, ``, events.ErrUnavailable},
		{"425", 425, ``, events.ErrUnavailable},
		{"429 rate limited", 429, `{"error":"slow down"}`, events.ErrUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			c, _ := events.NewClient(events.ClientConfig{EventKey: key, BaseURL: srv.URL, Timeout: time.Second})
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
		c, _ := events.NewClient(events.ClientConfig{EventKey: key, BaseURL: srv.URL, Timeout: time.Second})
		ids, err := c.Send(context.Background(), []json.RawMessage{json.RawMessage(`{"name":"x","data":{}}`)})
		srv.Close()
		if err != nil || len(ids) != 1 || ids[0] != "" {
			t.Errorf("200 %s: Send = %q, %v; want one unknown id and no error", body, ids, err)
		}
	}

	// Refused connection: unavailable, key redacted; a hung server: timeout, promptly.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	c, _ := events.NewClient(events.ClientConfig{EventKey: key, BaseURL: dead.URL, Timeout: time.Second})
	_, err := c.Send(context.Background(), []json.RawMessage{json.RawMessage(`{}`)})
	if !errors.Is(err, events.ErrUnavailable) || strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), "[event-key]") {
		t.Errorf("refused: %v", err)
	}
	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	defer hung.Close()
	defer close(release)
	c, _ = events.NewClient(events.ClientConfig{EventKey: key, BaseURL: hung.URL, Timeout: 200 * time.Millisecond})
	start := time.Now()
	_, err = c.Send(context.Background(), []json.RawMessage{json.RawMessage(`{}`)})
	if !errors.Is(err, events.ErrTimeout) || time.Since(start) > 5*time.Second {
		t.Errorf("hung: %v after %s", err, time.Since(start))
	}
}

func TestNewClientErrors(t *testing.T) {
	for _, cfg := range []events.ClientConfig{
		{EventKey: key, BaseURL: "http://x"},
		{EventKey: key, Timeout: time.Second},
		{BaseURL: "http://x", Timeout: time.Second},
	} {
		if _, err := events.NewClient(cfg); err == nil {
			t.Errorf("NewClient(%+v) succeeded", cfg)
		}
	}
	if _, err := events.NewClient(events.ClientConfig{BaseURL: "http://x", Timeout: time.Second, Dev: true}); err != nil {
		t.Errorf("dev mode without a key: %v", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// Encode copies data in (compacted), and the result is the same JSON as
// marshalling the event.
func TestEncode(t *testing.T) {
	for _, data := range []string{`"data"`, `{ "a" : [1, 2 ,"x y"], "b":"<&>" }`, `12345678901234567890`, `true`, `null`, `[ ]`, `-1.5e3`} {
		e, err := events.Build(testSettings, testUser, events.Request{Data: json.RawMessage(data), RequestID: "r"}, testNow)
		if data == "null" {
			if err == nil {
				t.Error("Build accepted null data")
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		got, err := events.Encode(e)
		if err != nil {
			t.Fatalf("%s: %v", data, err)
		}
		want, _ := json.Marshal(e)
		var a, b any
		if err := json.Unmarshal(got, &a); err != nil {
			t.Fatalf("%s: Encode gave invalid JSON %s: %v", data, got, err)
		}
		_ = json.Unmarshal(want, &b)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: Encode = %s, want the same JSON as %s", data, got, want)
		}
		var compact bytes.Buffer
		_ = json.Compact(&compact, []byte(data))
		if !strings.Contains(string(got), `{"data":`+compact.String()+`,"user":`) {
			t.Errorf("%s: data not copied in compacted: %s", data, got)
		}
	}
	// Only what the first byte shows: Encode trusts its caller for the rest.
	for _, bad := range []string{``, `}`, `x`} {
		e := events.Event{ID: "i", Name: "n", Data: events.Data{Data: json.RawMessage(bad)}}
		if _, err := events.Encode(e); err == nil {
			t.Errorf("Encode accepted data %q", bad)
		}
	}
}
