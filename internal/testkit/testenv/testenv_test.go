package testenv_test

import (
	"testing"

	"github.com/routeapi/routeapi/internal/testkit/testenv"
)

func TestMap(t *testing.T) {
	getenv := testenv.Map(map[string]string{"A": "1", "EMPTY": ""})
	for k, want := range map[string]string{"A": "1", "EMPTY": "", "UNSET": ""} {
		if got := getenv(k); got != want {
			t.Errorf("getenv(%q) = %q, want %q", k, got, want)
		}
	}
	if got := testenv.Map(nil)("A"); got != "" {
		t.Errorf("a nil map: getenv(\"A\") = %q, want \"\"", got)
	}
}
