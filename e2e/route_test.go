package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/testkit/nextauthmint"
)

// routeResponse is the 200 body (gen.RouteResponse, decoded independently).
type routeResponse struct {
	Success string   `json:"success"`
	IDs     []string `json:"ids"`
	EventID string   `json:"eventId"`
}

// eventData is data of a received RouteEvent.
type eventData struct {
	Data      json.RawMessage   `json:"data"`
	User      map[string]string `json:"user"`
	Settings  map[string]any    `json:"settings"`
	RequestID string            `json:"requestId"`
}

func cookieHeader(v nextauthmint.Vector) http.Header {
	return http.Header{"Cookie": {v.CookieHeader}}
}

var ada = map[string]any{"sub": "user_42", "email": "ada@example.com", "name": "Ada Lovelace", "picture": "https://example.com/ada.png"}

// TestEventArrivesInInngest: a request with a cookie minted by next-auth
// 4.24.15 (plain, __Secure- and chunked, and the same token as a bearer)
// publishes one event that the real Inngest dev server receives with the
// right name, id, user, data and settings.
func TestEventArrivesInInngest(t *testing.T) {
	inngest := startInngest(t)
	event := "e2e/route." + randomSuffix()
	plain := startRouteAPI(t, settingsYAML(event, true, 262144), map[string]string{"INNGEST_BASE_URL": inngest.URL})
	secure := startRouteAPI(t, settingsYAML(event, true, 262144), map[string]string{
		"INNGEST_BASE_URL": inngest.URL, "NEXTAUTH_URL": "https://app.example.com", "NEXTAUTH_SECRET": plain.Secret})

	vectors := nextauthmint.Mint(t,
		nextauthmint.Case{Name: "plain", Secret: plain.Secret, Claims: ada, MaxAge: 3600},
		nextauthmint.Case{Name: "secure", Secret: plain.Secret, Claims: ada, MaxAge: 3600, SecureCookie: true},
		nextauthmint.Case{Name: "chunked", Secret: plain.Secret, Claims: ada, MaxAge: 3600, PadBytes: 8000},
	)
	if n := len(vectors[2].Cookies); n < 2 {
		t.Fatalf("the chunked vector has %d cookies, want several", n)
	}
	cases := []struct {
		name   string
		server *routeAPI
		header http.Header
	}{
		{"plain cookie", plain, cookieHeader(vectors[0])},
		{"__Secure- cookie", secure, cookieHeader(vectors[1])},
		{"chunked cookie", plain, cookieHeader(vectors[2])},
		{"bearer token", plain, http.Header{"Authorization": {"Bearer " + vectors[0].Token}}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := `{"case":` + jsonString(tc.name) + `,"list":[1,"two",null]}`
			tc.header.Set("X-Request-Id", "e2e-"+strings.ReplaceAll(tc.name, " ", "-"))
			resp := tc.server.post(t, `{"data":`+data+`}`, tc.header)
			if resp.Status != http.StatusOK {
				t.Fatalf("status %d: %s", resp.Status, resp.Body)
			}
			var body routeResponse
			resp.decode(t, &body)

			received := inngest.waitEvents(t, event, i+1)
			var ev *receivedEvent
			for j := range received {
				if received[j].ID == body.EventID {
					ev = &received[j]
				}
			}
			if ev == nil {
				t.Fatalf("no event with id %s among %d received", body.EventID, len(received))
			}
			if len(body.IDs) != 1 || body.IDs[0] != ev.InternalID {
				t.Errorf("response ids %v, Inngest's id for the event %s", body.IDs, ev.InternalID)
			}
			if ev.Name != event {
				t.Errorf("name %q, want %q", ev.Name, event)
			}
			if age := time.Since(time.UnixMilli(ev.TS)); age < 0 || age > time.Minute {
				t.Errorf("ts %d is %s old", ev.TS, age)
			}
			var d eventData
			if err := json.Unmarshal(ev.Data, &d); err != nil {
				t.Fatal(err)
			}
			wantUser := map[string]string{"id": "user_42", "email": "ada@example.com", "name": "Ada Lovelace", "image": "https://example.com/ada.png"}
			if !equalMaps(d.User, wantUser) {
				t.Errorf("user %v, want %v", d.User, wantUser)
			}
			if !jsonEqual(t, d.Data, data) {
				t.Errorf("data %s, want %s", d.Data, data)
			}
			if d.Settings["appName"] != "e2e" || d.Settings["plan"] != "free" {
				t.Errorf("settings %v", d.Settings)
			}
			if d.RequestID != tc.header.Get("X-Request-Id") {
				t.Errorf("requestId %q, want %q", d.RequestID, tc.header.Get("X-Request-Id"))
			}
		})
	}
}

// TestIdempotentRetry: a request repeated with the same Idempotency-Key
// carries the same event id, in the response and in Inngest.
func TestIdempotentRetry(t *testing.T) {
	inngest := startInngest(t)
	event := "e2e/idem." + randomSuffix()
	srv := startRouteAPI(t, settingsYAML(event, true, 262144), map[string]string{"INNGEST_BASE_URL": inngest.URL})
	v := nextauthmint.Mint(t, nextauthmint.Case{Name: "ada", Secret: srv.Secret, Claims: ada, MaxAge: 3600})[0]

	send := func(key string) routeResponse {
		h := cookieHeader(v)
		if key != "" {
			h.Set("Idempotency-Key", key)
		}
		resp := srv.post(t, `{"data":"data"}`, h)
		if resp.Status != http.StatusOK {
			t.Fatalf("status %d: %s", resp.Status, resp.Body)
		}
		var r routeResponse
		resp.decode(t, &r)
		return r
	}
	first, retry, other := send("checkout-7"), send("checkout-7"), send("")
	if first.EventID != retry.EventID || strings.Join(first.IDs, ",") != strings.Join(retry.IDs, ",") {
		t.Errorf("same key: %+v then %+v, want the first answer replayed", first, retry)
	}
	if other.EventID == first.EventID {
		t.Error("a request without a key reused the keyed event id")
	}
	// The retry was answered from the idempotency store: Inngest holds one
	// event with the key's id (and the unkeyed one, sent last).
	received := inngest.waitEvents(t, event, 2)
	n := 0
	for _, ev := range received {
		if ev.ID == first.EventID {
			n++
		}
	}
	if n != 1 || len(received) != 2 {
		t.Errorf("Inngest holds %d events with id %s and %d in all, want 1 and 2", n, first.EventID, len(received))
	}
}

// TestInngestDown: with the dev server stopped the route queues the event
// and answers 202 within the publish bound, without leaking the event key.
func TestInngestDown(t *testing.T) {
	inngest := startInngest(t)
	event := "e2e/down." + randomSuffix()
	const eventKey = "e2e-event-key-SHOULD-NOT-LEAK"
	srv := startRouteAPI(t, settingsYAML(event, true, 262144), map[string]string{
		"INNGEST_BASE_URL": inngest.URL, "INNGEST_EVENT_KEY": eventKey, "ROUTEAPI_PUBLISH_TIMEOUT": "1s"})
	v := nextauthmint.Mint(t, nextauthmint.Case{Name: "ada", Secret: srv.Secret, Claims: ada, MaxAge: 3600})[0]

	if resp := srv.post(t, `{"data":1}`, cookieHeader(v)); resp.Status != http.StatusOK {
		t.Fatalf("with Inngest up: status %d: %s", resp.Status, resp.Body)
	}
	inngest.proc.stop(t)

	resp := srv.post(t, `{"data":2}`, cookieHeader(v))
	if resp.Status != http.StatusAccepted || !strings.Contains(string(resp.Body), `"queued":true`) {
		t.Fatalf("with Inngest down: status %d: %s", resp.Status, resp.Body)
	}
	// The bound is 1 s; allow generous scheduling slack on a loaded machine.
	if resp.Took > 3*time.Second {
		t.Errorf("answered after %s, want within the 1s publish bound", resp.Took)
	}
	for name, text := range map[string]string{"response": string(resp.Body), "logs": srv.proc.logs.String()} {
		if strings.Contains(text, eventKey) {
			t.Errorf("the event key appears in the %s", name)
		}
		if strings.Contains(text, srv.Secret) {
			t.Errorf("the session secret appears in the %s", name)
		}
	}
}

// TestRefusals: the built binary answers bad requests with the documented
// problems (each checked against openapi.yaml by post).
func TestRefusals(t *testing.T) {
	inngest := startInngest(t)
	event := "e2e/refused." + randomSuffix()
	srv := startRouteAPI(t, settingsYAML(event, true, 1024), map[string]string{"INNGEST_BASE_URL": inngest.URL})
	vs := nextauthmint.Mint(t,
		nextauthmint.Case{Name: "ok", Secret: srv.Secret, Claims: ada, MaxAge: 3600},
		nextauthmint.Case{Name: "expired", Secret: srv.Secret, Claims: ada, MaxAge: -60},
		nextauthmint.Case{Name: "wrong-secret", Secret: "not-the-secret", Claims: ada, MaxAge: 3600},
		nextauthmint.Case{Name: "alg-none", Secret: srv.Secret, Claims: ada, MaxAge: 3600, Kind: nextauthmint.KindAlgNoneJWT},
	)
	ok := cookieHeader(vs[0])
	with := func(h http.Header, k, v string) http.Header { h = h.Clone(); h.Set(k, v); return h }
	cases := []struct {
		name   string
		method string
		path   string
		body   string
		header http.Header
		status int
		kind   string
	}{
		{"no session", "POST", "/api/route", `{"data":1}`, nil, 401, "unauthenticated"},
		{"expired session", "POST", "/api/route", `{"data":1}`, cookieHeader(vs[1]), 401, "unauthenticated"},
		{"wrong secret", "POST", "/api/route", `{"data":1}`, cookieHeader(vs[2]), 401, "unauthenticated"},
		{"alg none", "POST", "/api/route", `{"data":1}`, cookieHeader(vs[3]), 401, "unauthenticated"},
		{"not JSON", "POST", "/api/route", `{"data":`, ok, 400, "invalid-request"},
		{"null data", "POST", "/api/route", `{"data":null}`, ok, 400, "invalid-request"},
		{"unknown property", "POST", "/api/route", `{"data":1,"user":"admin"}`, ok, 400, "invalid-request"},
		{"text/plain", "POST", "/api/route", `{"data":1}`, with(ok, "Content-Type", "text/plain"), 415, "unsupported-media-type"},
		{"too large", "POST", "/api/route", `{"data":"` + strings.Repeat("x", 2048) + `"}`, ok, 413, "payload-too-large"},
		{"cross-site", "POST", "/api/route", `{"data":1}`, with(ok, "Sec-Fetch-Site", "cross-site"), 403, "cross-origin"},
		{"unknown path", "GET", "/api/other", "", nil, 404, "not-found"},
		{"wrong method", "GET", "/api/route", "", nil, 405, "method-not-allowed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := srv.do(t, tc.method, tc.path, tc.body, tc.header)
			if resp.Status != tc.status || resp.problemType() != tc.kind {
				t.Errorf("status %d %q, want %d %q: %s", resp.Status, resp.problemType(), tc.status, tc.kind, resp.Body)
			}
		})
	}
	if got := inngest.events(t, event); len(got) != 0 {
		t.Errorf("refused requests published %d events", len(got))
	}
}

// TestSettingsReload: edits to the settings file apply without a restart, a
// broken edit keeps the last good settings, SIGHUP reloads at once, and with
// no good settings ever loaded the service is not ready.
func TestSettingsReload(t *testing.T) {
	inngest := startInngest(t)
	event := "e2e/reload." + randomSuffix()
	srv := startRouteAPI(t, "", map[string]string{"INNGEST_BASE_URL": inngest.URL}) // no settings file yet
	v := nextauthmint.Mint(t, nextauthmint.Case{Name: "ada", Secret: srv.Secret, Claims: ada, MaxAge: 3600})[0]

	if resp := srv.do(t, "GET", "/readyz", "", nil); resp.Status != http.StatusServiceUnavailable {
		t.Fatalf("readyz without settings: %d", resp.Status)
	}
	if resp := srv.post(t, `{"data":1}`, cookieHeader(v)); resp.Status != 503 || resp.problemType() != "settings-unavailable" {
		t.Fatalf("route without settings: %d %s", resp.Status, resp.Body)
	}

	write := func(content string) {
		t.Helper()
		if err := os.WriteFile(srv.SettingsPath, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(settingsYAML(event, true, 262144))
	waitFor(t, 10*time.Second, "settings to load", func() bool { return srv.do(t, "GET", "/readyz", "", nil).Status == 200 })
	if resp := srv.post(t, `{"data":1}`, cookieHeader(v)); resp.Status != 200 {
		t.Fatalf("after load: %d %s", resp.Status, resp.Body)
	}

	write(settingsYAML(event, false, 262144))
	waitFor(t, 10*time.Second, "the route to switch off", func() bool {
		return srv.post(t, `{"data":1}`, cookieHeader(v)).problemType() == "route-disabled"
	})

	write("route: [this is not valid\n")
	waitFor(t, 10*time.Second, "the failed reload to be logged", func() bool {
		return strings.Contains(srv.proc.logs.String(), "keeping the last good settings")
	})
	if resp := srv.post(t, `{"data":1}`, cookieHeader(v)); resp.problemType() != "route-disabled" {
		t.Errorf("a broken file replaced the last good settings: %d %s", resp.Status, resp.Body)
	}

	// SIGHUP: applies a valid file at once (also with polling, so just check it works and is logged).
	write(settingsYAML(event, true, 262144))
	if err := srv.proc.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the route to switch on", func() bool {
		return srv.post(t, `{"data":1}`, cookieHeader(v)).Status == 200
	})
	if !strings.Contains(srv.proc.logs.String(), "SIGHUP") {
		t.Error("SIGHUP was not logged")
	}
}

// TestTokenCommand: `routeapi token` prints a cookie the running server accepts.
func TestTokenCommand(t *testing.T) {
	inngest := startInngest(t)
	event := "e2e/token." + randomSuffix()
	srv := startRouteAPI(t, settingsYAML(event, true, 262144), map[string]string{"INNGEST_BASE_URL": inngest.URL})
	cmd := exec.Command(binary(t, "ROUTEAPI_BIN"), "token", "--sub", "cli-user", "--email", "cli@example.com")
	cmd.Env = []string{"NEXTAUTH_SECRET=" + srv.Secret}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("routeapi token: %v", err)
	}
	cookie := strings.TrimSpace(string(out))
	if !strings.HasPrefix(cookie, "next-auth.session-token=") {
		t.Fatalf("token printed %q", cookie)
	}
	if resp := srv.post(t, `{"data":"data"}`, http.Header{"Cookie": {cookie}}); resp.Status != 200 {
		t.Fatalf("status %d: %s", resp.Status, resp.Body)
	}
	ev := inngest.waitEvents(t, event, 1)[0]
	var d eventData
	if err := json.Unmarshal(ev.Data, &d); err != nil {
		t.Fatal(err)
	}
	if d.User["id"] != "cli-user" {
		t.Errorf("user %v", d.User)
	}
}

// TestBadConfiguration: a missing secret stops start-up with one line naming it.
func TestBadConfiguration(t *testing.T) {
	cmd := exec.Command(binary(t, "ROUTEAPI_BIN"))
	cmd.Env = []string{"INNGEST_DEV=1", "ROUTEAPI_ADDR=127.0.0.1:0"}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatal("started without a secret")
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "NEXTAUTH_SECRET") {
		t.Errorf("want one line naming NEXTAUTH_SECRET, got:\n%s", out)
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func jsonEqual(t *testing.T, a json.RawMessage, b string) bool {
	t.Helper()
	var x, y any
	dec := func(data []byte, v *any) {
		d := json.NewDecoder(strings.NewReader(string(data)))
		d.UseNumber()
		if err := d.Decode(v); err != nil {
			t.Fatalf("decode %s: %v", data, err)
		}
	}
	dec(a, &x)
	dec([]byte(b), &y)
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return string(xb) == string(yb)
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
