package session

import (
	"fmt"
	"strings"
	"testing"
)

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
	if j := pagesRouter.read("a=1; a=2", nil); j.value("a") != "1" {
		t.Errorf("duplicate: %q, want the first", j.value("a"))
	}
}

// A jar keeps one value per name in first-appearance order, by its
// reader's duplicate rule, the same past jarLinear names (an index) as
// below it (a search).
func TestJarDuplicates(t *testing.T) {
	for _, n := range []int{1, jarLinear, jarLinear + 1, 3 * jarLinear} {
		var h []string
		for i := range n {
			h = append(h, fmt.Sprintf("c%d=first%d", i, i))
		}
		for i := range n {
			h = append(h, fmt.Sprintf("c%d=last%d", i, i))
		}
		header := strings.Join(h, "; ")
		for _, rd := range []reader{pagesRouter, appRouter, authjs} {
			j := rd.read(header, nil)
			if len(j.pairs) != n {
				t.Fatalf("%s, %d names: %d pairs", rd.name, n, len(j.pairs))
			}
			for i, p := range j.pairs {
				want := fmt.Sprintf("first%d", i)
				if rd.keepLast {
					want = fmt.Sprintf("last%d", i)
				}
				if p.name != fmt.Sprintf("c%d", i) || p.value != want || j.value(p.name) != want {
					t.Errorf("%s, %d names: pair %d = %q (value %q), want c%d=%s", rd.name, n, i, p, j.value(p.name), i, want)
				}
			}
			if j.value("absent") != "" {
				t.Errorf("%s: a value for a cookie not sent", rd.name)
			}
			if !j.equal(rd.read(header, nil)) {
				t.Errorf("%s: a jar differs from itself", rd.name)
			}
		}
	}
}
