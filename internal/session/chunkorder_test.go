package session

import (
	"math"
	"reflect"
	"testing"
)

// TestJSSortMatchesV8 checks jsSort against orders Node 20's V8 produced for
// SessionStore's comparator (next-auth v4's `?? "0"`, v5 @auth/core's
// `|| "0"`), including names whose key is NaN ("N", "N.a"), where the
// comparator is inconsistent and V8's algorithm decides. The vectors were
// printed by node running SessionStore's sort on these keys (a check of
// 6,000 random sets of up to 15 names agreed in every case).
func TestJSSortMatchesV8(t *testing.T) {
	for _, c := range []struct {
		keys []string
		v5   bool
		want []string
	}{
		{[]string{"N.00", "N.a", "N.10", "N.", "N.9", "N.+1"}, false, []string{"N.00", "N.a", "N.+1", "N.10", "N.", "N.9"}},
		{[]string{"N.00", "N.a", "N.10", "N.", "N.9", "N.+1"}, true, []string{"N.00", "N.a", "N.", "N.+1", "N.9", "N.10"}},
		{[]string{"N.q.9z", "N", "N.q. 2", "N.", "N.q.+1", "N.10", "N.9"}, false, []string{"N.q.9z", "N", "N.q. 2", "N.", "N.q.+1", "N.9", "N.10"}},
		{[]string{"N.q.9z", "N", "N.q. 2", "N.", "N.q.+1", "N.10", "N.9"}, true, []string{"N.q.9z", "N", "N.", "N.q.+1", "N.q. 2", "N.9", "N.10"}},
		{[]string{"N.q.1e1", "N.-1z", "N", "N.q. 2z", "N.q. 2"}, false, []string{"N.-1z", "N.q.1e1", "N", "N.q. 2z", "N.q. 2"}},
		{[]string{"N.q.1e1", "N.-1z", "N", "N.q. 2z", "N.q. 2"}, true, []string{"N.-1z", "N.q.1e1", "N", "N.q. 2z", "N.q. 2"}},
		{[]string{"N.10", "N. 2", "N.2", "N.0x1", "N.00"}, false, []string{"N.00", "N.0x1", "N. 2", "N.2", "N.10"}},
		{[]string{"N.10", "N. 2", "N.2", "N.0x1", "N.00"}, true, []string{"N.00", "N.0x1", "N. 2", "N.2", "N.10"}},
		{[]string{"N", "N.1", "N.2"}, false, []string{"N", "N.1", "N.2"}},
		{[]string{"N.1", "N.2", "N"}, false, []string{"N.1", "N.2", "N"}},
		{[]string{"N.2", "N.1", "N.0"}, true, []string{"N.0", "N.1", "N.2"}},
	} {
		names := append([]string(nil), c.keys...)
		keys := make([]float64, len(names))
		for i, n := range names {
			keys[i] = chunkKey(n, c.v5)
		}
		if err := jsSort(names, keys); err != nil {
			t.Fatalf("%q: %v", c.keys, err)
		}
		if !reflect.DeepEqual(names, c.want) {
			t.Errorf("%q (v5 %v): %q, V8 sorts %q", c.keys, c.v5, names, c.want)
		}
	}
}

func TestJSParseInt(t *testing.T) {
	for in, want := range map[string]float64{"0": 0, "00": 0, "+1": 1, "-1": -1, "1e1": 1, "0x1f": 31, "0X1": 1, " \t2": 2, "\xa03": 3, "12abc": 12, "007": 7} {
		if got := jsParseInt(in); got != want {
			t.Errorf("parseInt(%q) = %v, want %v", in, got, want)
		}
	}
	for _, in := range []string{"", "x", "0x", "+", "-", "session-token", ".1"} {
		if got := jsParseInt(in); !math.IsNaN(got) {
			t.Errorf("parseInt(%q) = %v, want NaN", in, got)
		}
	}
}

func TestJSSortLongRefusesNaN(t *testing.T) {
	names := make([]string, jsSortMax+1)
	keys := make([]float64, len(names))
	for i := range names {
		names[i] = "N." + string(rune('a'+i%26))
		keys[i] = chunkKey(names[i], false)
	}
	if err := jsSort(names, keys); err == nil {
		t.Error("64 names with NaN keys sorted; V8's merge order is not replayed")
	}
}
