package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/routeapi/routeapi/scripts/internal/loadrig"
)

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestParseWrk reads wrk 4.1.0's real output (Debian's, with --latency and
// the script's done() line): the summary is the done() line's, exact where
// the text rounds.
func TestParseWrk(t *testing.T) {
	s, err := parseWrk(readTestdata(t, "wrk-ok.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Requests != 54057 || s.DurationUS != 1099549 || s.P50US != 122 || s.P99US != 46710 || s.MaxUS != 64917 {
		t.Errorf("summary = %+v", s)
	}
	if s.ok() != 54057 || s.socketErrors() != 0 || wrkErrors(s) != "0" {
		t.Errorf("ok %d, socket errors %d, cell %q", s.ok(), s.socketErrors(), wrkErrors(s))
	}
	if rps := s.rps(); rps < 49162 || rps > 49163 { // wrk's own "Requests/sec:  49162.88"
		t.Errorf("rps = %f", rps)
	}

	s, err = parseWrk(readTestdata(t, "wrk-401.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Requests != 49 || s.Errors.Status != 49 || s.ok() != 0 || !strings.HasPrefix(wrkErrors(s), "49 non-2xx") {
		t.Errorf("401s: %+v, cell %q", s, wrkErrors(s))
	}

	// wrk exits before done() when it cannot connect.
	if _, err := parseWrk(readTestdata(t, "wrk-refused.txt")); err == nil {
		t.Error("no error for an output without the summary line")
	}
	if _, err := parseWrk(wrkMarker + `{"requests":1}` + "\n"); err == nil {
		t.Error("no error for a summary without a duration")
	}
}

// TestParseVegeta reads vegeta v12.13.0's real `report -type=json`.
func TestParseVegeta(t *testing.T) {
	r, err := parseVegeta([]byte(readTestdata(t, "vegeta-ok.json")))
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests != 200 || r.ok() != 200 || r.notOK() != 0 || r.Latencies.P50 != 215272 || r.Latencies.P99 != 376912 ||
		r.Latencies.Max != 2147563 || r.Rate < 200.9 || r.Rate > 201 {
		t.Errorf("report = %+v", r)
	}
	if m := rateMissed(r, 200, time.Second); m != "" {
		t.Errorf("rateMissed = %q for a run that kept its rate", m)
	}
	if m := rateMissed(r, 1000, time.Second); !strings.Contains(m, "sent 201/s of 1000/s") || !strings.Contains(m, "200 of 1000 requests") {
		t.Errorf("rateMissed = %q", m)
	}

	r, err = parseVegeta([]byte(readTestdata(t, "vegeta-errors.json")))
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests != 20 || r.ok() != 0 || r.notOK() != 20 || len(r.Errors) != 2 {
		t.Errorf("401s and refused connections: %+v", r)
	}
	if _, err := parseVegeta([]byte(`{"requests":0}`)); err == nil {
		t.Error("no error for a report without requests")
	}
	if _, err := parseVegeta([]byte(`not json`)); err == nil {
		t.Error("no error for a report that is not JSON")
	}
}

func TestLuaQuote(t *testing.T) {
	for in, want := range map[string]string{
		"next-auth.session-token=a.b_c-d": `"next-auth.session-token=a.b_c-d"`,
		`a"b\c`:                           `"a\"b\\c"`,
		"x\ny\x00":                        `"x\010y\000"`,
		"é":                               `"\195\169"`,
	} {
		if got := luaQuote(in); got != want {
			t.Errorf("luaQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestVerdicts: the events checks' boundaries.
func TestVerdicts(t *testing.T) {
	ok := loadrig.Answered{200: 100}
	for _, c := range []struct {
		name     string
		got      loadrig.Tally
		answered loadrig.Answered
		client   int
		want     bool
	}{
		{"exact", loadrig.Tally{Events: 100}, ok, 100, true},
		{"64 dropped by the client", loadrig.Tally{Events: 100}, ok, 36, true},
		{"65 dropped by the client", loadrig.Tally{Events: 100}, ok, 35, false},
		{"one lost", loadrig.Tally{Events: 99}, ok, 100, false},
		{"one more", loadrig.Tally{Events: 101}, ok, 100, false},
		{"a duplicate", loadrig.Tally{Events: 100, Duplicated: 1}, ok, 100, false},
		{"an event without id", loadrig.Tally{Events: 100, WithoutID: 1}, ok, 100, false},
		{"client saw more than the server", loadrig.Tally{Events: 100}, ok, 101, false},
		{"a non-2xx on the server", loadrig.Tally{Events: 100}, loadrig.Answered{200: 100, 503: 1}, 100, false},
	} {
		if v := routeapiVerdict(c.got, c.answered, c.client, 64, 1); v.ok != c.want {
			t.Errorf("%s: %+v", c.name, v)
		}
	}
	if v := routeapiVerdict(loadrig.Tally{Events: 1000}, ok, 100, 0, 10); !v.ok {
		t.Errorf("ten events per 2xx: %+v", v)
	}

	for _, c := range []struct {
		got  loadrig.Tally
		want bool
	}{
		{loadrig.Tally{Events: 50, WithoutID: 50}, true},
		{loadrig.Tally{Events: 114, WithoutID: 114}, true},
		{loadrig.Tally{Events: 115, WithoutID: 115}, false},
		{loadrig.Tally{Events: 49, WithoutID: 49}, false},
		{loadrig.Tally{Events: 50, Duplicated: 1}, false},
	} {
		if v := originalVerdict(c.got, 50, 64); v.ok != c.want {
			t.Errorf("original %+v: %+v", c.got, v)
		}
	}
}

func TestFormat(t *testing.T) {
	for d, want := range map[time.Duration]string{
		380 * time.Microsecond: "0.38 ms", 14100 * time.Microsecond: "14.1 ms", 246 * time.Millisecond: "246 ms", 1892 * time.Millisecond: "1,892 ms",
	} {
		if got := ms(d); got != want {
			t.Errorf("ms(%s) = %q, want %q", d, got, want)
		}
	}
	if got := thousands(1234567.4); got != "1,234,567" {
		t.Errorf("thousands = %q", got)
	}
	if got := ratio(0.00361); got != "0.0036" {
		t.Errorf("ratio = %q", got)
	}
	if got := ratio(0.281); got != "0.28" {
		t.Errorf("ratio = %q", got)
	}
	if _, err := parseRates("1000, 2000"); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{"", "0", "x", "1000,"} {
		if _, err := parseRates(bad); err == nil {
			t.Errorf("parseRates(%q): no error", bad)
		}
	}
}
