package config

import (
	"strings"
	"testing"
	"time"
)

func newEnv(kv ...string) *env {
	m := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return &env{getenv: func(k string) string { return m[k] }}
}

func TestEnvBoundsAreInclusive(t *testing.T) {
	e := newEnv("LO", " 1s ", "HI", "3s", "BELOW", "999ms", "ABOVE", "3001ms",
		"NLO", "1", "NHI", "3", "NBELOW", "0", "NABOVE", "4", "NJUNK", "2.0")
	if got := e.dur("LO", 2*time.Second, time.Second, 3*time.Second); got != time.Second {
		t.Errorf("dur at lo = %s", got)
	}
	if got := e.dur("HI", 2*time.Second, time.Second, 3*time.Second); got != 3*time.Second {
		t.Errorf("dur at hi = %s", got)
	}
	if got := e.dur("UNSET", 2*time.Second, time.Second, 3*time.Second); got != 2*time.Second {
		t.Errorf("dur unset = %s, want the default", got)
	}
	for _, n := range []string{"BELOW", "ABOVE"} {
		if got := e.dur(n, 2*time.Second, time.Second, 3*time.Second); got != 2*time.Second {
			t.Errorf("dur %s = %s, want the default", n, got)
		}
	}
	if e.int("NLO", 2, 1, 3) != 1 || e.int("NHI", 2, 1, 3) != 3 || e.int("UNSET", 2, 1, 3) != 2 {
		t.Error("int at its bounds or unset")
	}
	for _, n := range []string{"NBELOW", "NABOVE", "NJUNK"} {
		if got := e.int(n, 2, 1, 3); got != 2 {
			t.Errorf("int %s = %d, want the default", n, got)
		}
	}
	want := []string{
		`BELOW: want a duration from 1s to 3s, got "999ms"`,
		`ABOVE: want a duration from 1s to 3s, got "3001ms"`,
		`NBELOW: want a whole number from 1 to 3, got "0"`,
		`NABOVE: want a whole number from 1 to 3, got "4"`,
		`NJUNK: want a whole number from 1 to 3, got "2.0"`,
	}
	if got := e.err(); got == nil || got.Error() != "invalid configuration: "+strings.Join(want, "; ") {
		t.Errorf("err = %v\nwant each bad variable in the order read:\n%s", got, strings.Join(want, "\n"))
	}
}

func TestEnvOneOf(t *testing.T) {
	e := newEnv("UPPER", " V5 ", "BAD", "v6")
	if got := oneOf(e, "UPPER", "auto", "auto", "v4", "v5"); got != "v5" {
		t.Errorf("oneOf(V5) = %q, want v5 (case and space ignored)", got)
	}
	if got := oneOf(e, "UNSET", "info", "debug", "info"); got != "info" {
		t.Errorf("oneOf(unset) = %q, want the default", got)
	}
	oneOf(e, "BAD", "auto", "auto", "v4", "v5")
	if got := e.err(); got == nil || got.Error() != `invalid configuration: BAD: want auto, v4 or v5, got "v6"` {
		t.Errorf("err = %v", got)
	}
	for in, want := range map[string]string{"a": "a", "a,b": "a or b", "a,b,c": "a, b or c", "a,b,c,d": "a, b, c or d"} {
		if got := orList(strings.Split(in, ",")); got != want {
			t.Errorf("orList(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestEnvNoErrorWhenAllGood(t *testing.T) {
	e := newEnv("B", "on", "U", "https://x.example")
	if !e.boolean("B") || e.boolean("UNSET") || e.httpURL("U") != "https://x.example" || e.httpURL("UNSET") != "" {
		t.Error("boolean or httpURL")
	}
	if err := e.err(); err != nil {
		t.Errorf("err = %v, want nil", err)
	}
}

// TestEnvDefaultOutsideBoundsPanics: a reader whose own default breaks its
// bounds or its list is a mistake in the source, found by the first test
// that loads the defaults, never a value a user gets.
func TestEnvDefaultOutsideBoundsPanics(t *testing.T) {
	for name, read := range map[string]func(e *env){
		"int":      func(e *env) { e.int("X", 0, 1, 100) },
		"duration": func(e *env) { e.dur("X", time.Hour, 0, time.Minute) },
		"oneOf":    func(e *env) { oneOf(e, "X", "c", "a", "b") },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic for a default outside the bounds")
				}
			}()
			read(&env{getenv: func(string) string { return "" }})
		})
	}
}
