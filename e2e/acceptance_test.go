package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/routeapi/routeapi/internal/testkit/nextauthmint"
)

// maxEvent is the Inngest server's event size limit (consts.AbsoluteMaxEventSize,
// 3 MiB): the dev server's real boundary, so routeapi is set to it here.
const maxEvent = 3 << 20

// acceptanceSettings sets inngest.maxEventBytes to the dev server's limit
// and route.maxBodyBytes to the largest the settings allow with it.
func acceptanceSettings(event string) string {
	return fmt.Sprintf("inngest:\n  maxEventBytes: %d\nroute:\n  event: %s\n  maxBodyBytes: %d\npublic:\n  appName: e2e\n  plan: free\n",
		maxEvent, event, maxEvent-envelope(event, `{"id":"u"}`, "r")+len(`{"data":}`))
}

// envelope is the size of routeapi's event for event name, user JSON and
// request id without its data, written out here from the RouteEvent shape
// (id: 32 hex digits, ts: 13 digits) independently of routeapi's encoder.
func envelope(event, userJSON, requestID string) int {
	name, _ := json.Marshal(event)
	rid, _ := json.Marshal(requestID)
	public := `{"appName":"e2e","plan":"free"}`
	return len(`{"id":"`+strings.Repeat("0", 32)+`","name":`) + len(name) +
		len(`,"data":{"data":`) + len(`,"user":`) + len(userJSON) + len(`,"settings":`) + len(public) +
		len(`,"requestId":`) + len(rid) + len(`},"ts":1796077332316}`)
}

// TestAcceptanceAgainstInngest is the differential test of "what routeapi
// accepts": generated bodies around every boundary go through routeapi to
// the real Inngest dev server. Each must get a 4xx, or arrive with data equal
// to what was sent (JSON values, numbers compared as exact decimals). Each
// 4xx for a number, a string or a size is confirmed the other way: the same
// value sent straight to the dev server is refused or stored changed.
func TestAcceptanceAgainstInngest(t *testing.T) {
	inngest := startInngest(t)
	event := "e2e/accept." + randomSuffix()
	srv := startRouteAPI(t, acceptanceSettings(event), map[string]string{"INNGEST_BASE_URL": inngest.URL})

	small := map[string]any{"sub": "u1"}
	large := map[string]any{"sub": "user_" + strings.Repeat("9", 40), "email": strings.Repeat("e", 200) + "@example.com",
		"name": strings.Repeat("Ada Lovelace é ", 100), "picture": "https://example.com/" + strings.Repeat("p", 500)}
	vectors := nextauthmint.Mint(t,
		nextauthmint.Case{Name: "small", Secret: srv.Secret, Claims: small, MaxAge: 3600},
		nextauthmint.Case{Name: "large", Secret: srv.Secret, Claims: large, MaxAge: 3600},
	)
	userJSON := func(c map[string]any) string {
		u := struct {
			ID    string `json:"id"`
			Email string `json:"email,omitempty"`
			Name  string `json:"name,omitempty"`
			Image string `json:"image,omitempty"`
		}{ID: c["sub"].(string)}
		u.Email, _ = c["email"].(string)
		u.Name, _ = c["name"].(string)
		u.Image, _ = c["picture"].(string)
		b, _ := json.Marshal(u)
		return string(b)
	}
	send := func(t *testing.T, v nextauthmint.Vector, body string, header http.Header) response {
		t.Helper()
		h := http.Header{"Authorization": {"Bearer " + v.Token}, "X-Request-Id": {"acceptance"}}
		for k, vs := range header {
			h[k] = vs
		}
		return srv.post(t, body, h)
	}

	// Sizes: events of the limit minus one, the limit and one more, for a
	// user with a tiny and one with a large session.
	t.Run("event size", func(t *testing.T) {
		for i, user := range []map[string]any{small, large} {
			env := envelope(event, userJSON(user), "acceptance")
			for _, size := range []int{maxEvent - 1, maxEvent, maxEvent + 1} {
				data := `"` + strings.Repeat("x", size-env-2) + `"`
				resp := send(t, vectors[i], `{"data":`+data+`}`, nil)
				switch {
				case size > maxEvent && resp.Status != http.StatusRequestEntityTooLarge:
					t.Errorf("user %d, event of %d bytes: status %d, want 413: %.300s", i, size, resp.Status, resp.Body)
				case size <= maxEvent:
					arrived(t, inngest, resp, data)
				}
			}
		}
		// Strings of escapes only, at the limit: each backslash must cost
		// constant work (a scan quadratic in them took a minute for 3 MiB,
		// and the answer was lost to the server's write timeout while the
		// event was published).
		for _, unit := range []string{`\u003c`, `\\`, `\"`} {
			env := envelope(event, userJSON(small), "acceptance")
			n := maxEvent - env - 2
			data := `"` + strings.Repeat(unit, n/len(unit)) + strings.Repeat("x", n%len(unit)) + `"`
			arrived(t, inngest, send(t, vectors[0], `{"data":`+data+`}`, nil), data)
		}
		// The other way: the dev server refuses an event of one byte more
		// than the limit, and takes one of exactly the limit.
		for _, size := range []int{maxEvent, maxEvent + 1} {
			pad := size - len(`{"name":"e2e/direct","data":{"v":""}}`)
			status, _ := direct(t, inngest, `"`+strings.Repeat("x", pad)+`"`)
			if want := size <= maxEvent; (status == http.StatusOK) != want {
				t.Errorf("the dev server answered %d to an event of %d bytes", status, size)
			}
		}
	})

	var cases []acceptCase
	add := func(kind, data string) { cases = append(cases, acceptCase{kind, data}) }
	for _, d := range []string{`"\u0000"`, `"a\u0000b"`, `"x\ud83d\ude00y"`, `"😀"`, `"é"`, `"\u00e9"`, `"<>&\u2028"`,
		`"\b\f\n\r\t\"\\\/"`, `{"_inngest":{"fn_id":"x"}}`, `{"":1,"a":{"a":1}}`, `-0`, `-0.0`, `1.0`, `1E2`, `0.1`, `1e22`,
		`9007199254740992`, `-9007199254740992`, `9007199254740994`, `5e-324`, `2.2250738585072014e-308`,
		`1.7976931348623157e308`, `0.30000000000000004`, `123456789012345`, `true`, `[]`, `{}`,
		nest(512), `"` + strings.Repeat("ü", 100_000) + `"`} {
		add("accept", d)
	}
	for _, d := range []string{"\"caf\xe9\"", "\"\xff\xfe\"", "{\"k\xc3\":1}", `"\ud800"`, `"\udc00x"`, `"\ud800\u0041"`, `{"k":1,"k":2}`,
		`{"a":{"b":[{"k":1,"\u006b":2}]}}`, `1e400`, `-1e400`, `1e-400`, `4.9e-324`, `9007199254740993`, `-9007199254740993`,
		`12345678901234567890`, `0.1000000000000000000001`, `1.7976931348623159e308`, nest(513)} {
		add("refuse", d)
	}
	// Generated numbers: 2^53 and its neighbours, and random decimals of 1
	// to 25 digits with random exponents (a fixed seed: the same every run).
	for d := int64(-3); d <= 3; d++ {
		add("any", new(big.Int).Add(big.NewInt(1<<53), big.NewInt(d)).String())
	}
	rng := rand.New(rand.NewPCG(9, 53))
	for range 60 {
		var b strings.Builder
		if rng.IntN(2) == 0 {
			b.WriteByte('-')
		}
		n := 1 + rng.IntN(25)
		b.WriteByte(byte('1' + rng.IntN(9)))
		for range n - 1 {
			b.WriteByte(byte('0' + rng.IntN(10)))
		}
		if rng.IntN(2) == 0 {
			b.WriteString("e" + strconv.Itoa(rng.IntN(660)-330))
		}
		add("any", b.String())
	}

	for _, c := range cases {
		t.Run(c.kind+"/"+c.data[:min(len(c.data), 30)], func(t *testing.T) {
			resp := send(t, vectors[0], `{"data":`+c.data+`}`, nil)
			switch {
			case resp.Status >= 400 && resp.Status < 500:
				if c.kind == "accept" {
					t.Fatalf("status %d for data Inngest keeps: %.300s", resp.Status, resp.Body)
				}
				if resp.Status != http.StatusBadRequest || !strings.Contains(string(resp.Body), `"pointer":"/data`) {
					t.Errorf("status %d without a pointer into data: %.300s", resp.Status, resp.Body)
				}
				if strings.Contains(string(resp.Body), "nest more than") {
					return // routeapi's own, stricter, depth limit
				}
				// The other way: straight to the dev server it is refused or changed.
				status, stored := direct(t, inngest, c.data)
				if status == http.StatusOK && unchanged(c.data, stored) {
					t.Errorf("refused, but the dev server stores it unchanged: %.200s", stored)
				}
			case c.kind == "refuse":
				t.Fatalf("status %d for data Inngest refuses or changes: %.300s", resp.Status, resp.Body)
			default:
				arrived(t, inngest, resp, c.data)
			}
		})
	}

	// Bodies routeapi cannot read as sent: 415, nothing published.
	t.Run("content coding and charset", func(t *testing.T) {
		for _, h := range []http.Header{
			{"Content-Encoding": {"br"}},
			{"Content-Encoding": {"gzip"}},
			{"Content-Type": {"application/json; charset=iso-8859-1"}},
		} {
			if resp := send(t, vectors[0], "{\"data\":\"caf\xe9\"}", h); resp.Status != http.StatusUnsupportedMediaType {
				t.Errorf("%v: status %d, want 415: %s", h, resp.Status, resp.Body)
			}
		}
	})
}

type acceptCase struct{ kind, data string }

func nest(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }

// arrived checks that resp is a 200 whose event the dev server stored with
// data equal to sent.
func arrived(t *testing.T, inngest *inngestDev, resp response, sent string) {
	t.Helper()
	if resp.Status != http.StatusOK {
		t.Fatalf("status %d: %.300s", resp.Status, resp.Body)
	}
	var body routeResponse
	resp.decode(t, &body)
	if len(body.IDs) != 1 || body.IDs[0] == "" {
		t.Fatalf("no Inngest id in %s", resp.Body)
	}
	var ev eventData
	if err := json.Unmarshal(inngest.event(t, body.IDs[0]), &ev); err != nil {
		t.Fatal(err)
	}
	if !unchanged(sent, ev.Data) {
		t.Fatalf("sent %.200s, the dev server stored %.200s", sent, ev.Data)
	}
}

// direct sends {"name":"e2e/direct","data":{"v":<v>}} straight to the dev
// server and returns its status and, on 200, the stored v.
func direct(t *testing.T, inngest *inngestDev, v string) (int, json.RawMessage) {
	t.Helper()
	resp, err := http.Post(inngest.URL+"/e/test", "application/json", strings.NewReader(`[{"name":"e2e/direct","data":{"v":`+v+`}}]`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var answer struct {
		IDs []string `json:"ids"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&answer)
	if resp.StatusCode != http.StatusOK || len(answer.IDs) != 1 {
		return resp.StatusCode, nil
	}
	var data struct {
		V json.RawMessage `json:"v"`
	}
	if err := json.Unmarshal(inngest.event(t, answer.IDs[0]), &data); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, data.V
}

// event waits for the dev server's GET /v1/events/{id} and returns the event's data object.
func (d *inngestDev) event(t *testing.T, id string) json.RawMessage {
	t.Helper()
	var out struct {
		Data struct {
			Data json.RawMessage `json:"data"`
		} `json:"data"`
	}
	waitFor(t, 15*time.Second, "event "+id, func() bool {
		resp, err := probeClient.Get(d.URL + "/v1/events/" + id)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode == http.StatusOK && json.Unmarshal(b, &out) == nil && len(out.Data.Data) > 0
	})
	return out.Data.Data
}

// unchanged reports whether the dev server stored exactly what was sent:
// the same JSON value (sameJSON), no member name lost to a duplicate, no
// U+FFFD that was not sent (encoding/json writes it for bad UTF-8 and lone
// surrogates, and decodes the sent text the same way, so sameJSON alone
// cannot see it) and valid UTF-8 sent.
func unchanged(sent string, stored []byte) bool {
	fffd := func(s string) int { return strings.Count(s, "\ufffd") + strings.Count(strings.ToLower(s), `\ufffd`) }
	return utf8.ValidString(sent) && sameJSON([]byte(sent), stored) && names(sent) == names(string(stored)) && fffd(sent) == fffd(string(stored))
}

// names counts the member names in a JSON text, duplicates included.
func names(text string) int {
	dec := json.NewDecoder(strings.NewReader(text))
	n := 0
	var objects []bool // per open container: is it an object?
	key := false       // the next token in the open object is a name
	for {
		tok, err := dec.Token()
		if err != nil {
			return n
		}
		if key {
			if tok == json.Delim('}') {
				objects = objects[:len(objects)-1]
				key = len(objects) > 0 && objects[len(objects)-1]
				continue
			}
			n++
			key = false
			continue
		}
		switch tok {
		case json.Delim('{'):
			objects = append(objects, true)
			key = true
			continue
		case json.Delim('['):
			objects = append(objects, false)
			continue
		case json.Delim('}'), json.Delim(']'):
			objects = objects[:len(objects)-1]
		}
		key = len(objects) > 0 && objects[len(objects)-1]
	}
}

// sameJSON reports whether a and b are the same JSON value: objects compared
// by member (a duplicate name makes them differ), numbers as exact decimals.
func sameJSON(a, b []byte) bool {
	x, ok1 := decodeExact(a)
	y, ok2 := decodeExact(b)
	return ok1 && ok2 && equalJSON(x, y)
}

func decodeExact(data []byte) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	return v, dec.Decode(&v) == nil
}

func equalJSON(x, y any) bool {
	switch x := x.(type) {
	case json.Number:
		y, ok := y.(json.Number)
		if !ok {
			return false
		}
		rx, ok1 := new(big.Rat).SetString(string(x))
		ry, ok2 := new(big.Rat).SetString(string(y))
		return ok1 && ok2 && rx.Cmp(ry) == 0
	case []any:
		y, ok := y.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equalJSON(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := y.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if w, ok := y[k]; !ok || !equalJSON(v, w) {
				return false
			}
		}
		return true
	default:
		return x == y
	}
}
