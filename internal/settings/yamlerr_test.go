package settings_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/routeapi/routeapi/internal/settings"
)

// TestParseErrorsNameKeyAndLine: every kind of mistake in the file (an
// unknown key at any depth, a value of the wrong kind, a value out of
// range, broken YAML) names the key's path and its line, and never prints
// a Go type.
func TestParseErrorsNameKeyAndLine(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"misspelled route key", "route:\n  event: shop/x\n  enabeld: false\n", []string{"line 3", "route.enabeld", "unknown key", "did you mean enabled?", "enabled, event, maxBodyBytes, rateLimit"}},
		{"misspelled top-level key", "# comment\nroutes:\n  event: x\n", []string{"line 2", "routes", "did you mean route?", "at the top level"}},
		{"unknown key, nothing close", "route:\n  colour: blue\n", []string{"line 2", "route.colour", "unknown key;"}},
		{"unknown key in rateLimit, flow style", "route:\n  rateLimit: {requests: 5, per: 1m, burst: 2}\n", []string{"line 2", "route.rateLimit.burst"}},
		{"unknown key in an API token", "apiTokens:\n  - id: a\n    sha: x\n", []string{"line 3", "apiTokens[0].sha", "did you mean sha256?"}},
		{"two unknown keys", "route:\n  enabeld: true\n  evnt: x\n", []string{"line 2", "route.enabeld", "line 3", "route.evnt"}},
		{"bool expected", "route:\n  enabled: maybe\n", []string{"line 2", "route.enabled", "want true or false", `"maybe"`}},
		// yaml.v3 quotes a value longer than 10 bytes as its first 7 and "...".
		{"bool expected, long value", "route:\n  enabled: certainly-not\n", []string{"line 2", "route.enabled", "want true or false", `"certain..."`}},
		{"number expected", "route:\n\n  maxBodyBytes: lots\n", []string{"line 3", "route.maxBodyBytes", "want a whole number", `"lots"`}},
		{"mapping expected", "route: 5\n", []string{"line 1", "route", "want a mapping"}},
		{"list expected", "apiTokens: {a: 1}\n", []string{"line 1", "apiTokens", "want a list", "got a mapping"}},
		{"out of range", "route:\n  event: x\n  maxBodyBytes: 0\n", []string{"line 3", "route.maxBodyBytes", "want 1 to"}},
		{"reserved name", "public: {}\nroute:\n  event: inngest/x\n", []string{"line 3", "route.event", "reserved"}},
		{"bad hash", "apiTokens:\n  - id: a\n    sha256: nothex\n", []string{"line 3", "apiTokens[0].sha256"}},
		{"bad duration", "route:\n  rateLimit:\n    requests: 5\n    per: minute\n", []string{"line 4", "route.rateLimit.per"}},
		{"broken YAML", "route:\n  event: [\n", []string{"parse settings", "line"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := settings.Parse([]byte(tc.yaml))
			if err == nil {
				t.Fatalf("Parse(%q): no error", tc.yaml)
			}
			msg := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
			for _, leak := range []string{"struct {", "*bool", "int64", "yaml:\"", "interface {}", "\n"} {
				if strings.Contains(msg, leak) {
					t.Errorf("error %q contains %q", msg, leak)
				}
			}
		})
	}
	var fe *settings.FieldError
	if _, err := settings.Parse([]byte("route:\n  enabeld: true\n")); !errors.As(err, &fe) || fe.Line != 2 || fe.Path != "route.enabeld" {
		t.Errorf("FieldError = %+v, want line 2, route.enabeld", fe)
	}
	// Anything goes under public, including keys no struct knows.
	if _, err := settings.Parse([]byte("public:\n  anything: {nested: [1, 2]}\n")); err != nil {
		t.Errorf("public with free-form keys: %v", err)
	}
}
