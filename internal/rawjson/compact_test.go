package rawjson_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/routeapi/routeapi/internal/rawjson"
)

// FuzzCompact: for every valid JSON value, Compact gives json.Compact's
// bytes, and raw itself when there is nothing to remove.
func FuzzCompact(f *testing.F) {
	for _, s := range []string{`"a b"`, `{"a": "b"}`, `["x\" y", 1]`, `"\\" `, ` 1`, `{"k":"v\\\\"}`, `"tab\there"`, "[1,\n2]", `"a\u0020b"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !json.Valid(raw) {
			return
		}
		var b bytes.Buffer
		if err := json.Compact(&b, raw); err != nil {
			t.Fatal(err)
		}
		got, err := rawjson.Compact(raw)
		if err != nil || !bytes.Equal(got, b.Bytes()) {
			t.Fatalf("Compact(%q) = %q, %v; json.Compact gives %q", raw, got, err, b.Bytes())
		}
		if bytes.Equal(raw, b.Bytes()) && &got[0] != &raw[0] {
			t.Fatalf("Compact(%q) copied a compact value", raw)
		}
	})
}

// TestCompactEscapes: strings made of escapes (the closing quote far away,
// escaped quotes and backslashes next to it, white space around them) give
// json.Compact's bytes. A scan that looked for the closing quote again
// after each backslash took time quadratic in the escapes
// (BenchmarkCompactEscapes).
func TestCompactEscapes(t *testing.T) {
	var cases []string
	for _, unit := range []string{`\u003c`, `\\`, `\"`, `\/`, `\\\"`} {
		for _, n := range []int{0, 1, 2, 7, 100} {
			body := strings.Repeat(unit, n)
			cases = append(cases, `"`+body+`"`, `["`+body+`", "`+body+`x"]`, `{"a" : "`+body+`\\", "b": [ 1 ]}`)
		}
	}
	cases = append(cases, `"\\" `, `["\"", "\\"] `, `[ "a\\\"\\", "\\\\" ]`)
	for _, raw := range cases {
		var want bytes.Buffer
		if err := json.Compact(&want, []byte(raw)); err != nil {
			t.Fatalf("test case %q: %v", raw, err)
		}
		got, err := rawjson.Compact([]byte(raw))
		if err != nil || !bytes.Equal(got, want.Bytes()) {
			t.Errorf("Compact(%q) = %q, %v; want %q", raw, got, err, want.Bytes())
		}
	}
}

// BenchmarkCompactEscapes compacts a string of escapes only (time linear in
// its length: per byte, the same for 64 KiB and 3 MiB).
func BenchmarkCompactEscapes(b *testing.B) {
	for _, n := range []int{64 << 10, 3 << 20} {
		raw := []byte(`"` + strings.Repeat(`\u003c`, n/6) + `"`)
		b.Run(sizeName(n), func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				_, _ = rawjson.Compact(raw)
			}
		})
	}
}
