package session

import "testing"

// TestParseNextCookie: Next.js's compiled cookie (cookie 0.4.1), as node 20
// parses these headers: JavaScript's trim (0xA0 is U+00A0), a leading quote
// cuts the first and the last character, the first of duplicate names.
func TestParseNextCookie(t *testing.T) {
	got := parseNextCookie("n=\"%; a=\xa0b\xa0; q=\"xyz; \xa0k = v ;flag; =e; a=second; l=\"", nil)
	want := []cookiePair{{"n", ""}, {"a", "b"}, {"q", "xy"}, {"k", "v"}, {"", "e"}, {"a", "second"}, {"l", ""}}
	if len(got) != len(want) {
		t.Fatalf("%q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("pair %d: %q, want %q", i, got[i], want[i])
		}
	}
	if j := pagesRouter.read("a=1; a=2", nil); j.values["a"] != "1" {
		t.Errorf("duplicate: %q, want the first", j.values["a"])
	}
}
