package rawjson_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/routeapi/routeapi/internal/rawjson"
)

var cases = []string{
	``, ` `, `{}`, ` {} `, `{"data":"data"}`, `{"data":null}`, `[]`, `[1,2,3]`, `[1,]`, `[,1]`, `{"a":1,}`,
	`{"a" : [ true , false , null ] }`, `{"a":1 "b":2}`, `{"a"}`, `{1:2}`, `{"a":1}x`, `{"a":1} {"b":2}`,
	`"x"`, `"\u00e9\n\t\"\\\/\b\f\r"`, `"\u00g0"`, `"\u00e"`, `"\x"`, "\"a\x01\"", "\"a\x7f\"", "\"\xff\xfe\"",
	`"unterminated`, `"\`, `0`, `-0`, `-`, `01`, `1.`, `1.5`, `.5`, `1e`, `1e+`, `1e+5`, `1E-05`, `-1.5e10`, `1.5e`,
	`+1`, `tru`, `true`, `truex`, `nul`, `null`, `False`, `false `, "\t\r\n[]\n", "\v[]", `[[[]]]`, `[[[]]`,
	`{"a":{"b":{"c":[{"d":"e"}]}}}`, "{\"a\":\"b\"\x00}", `{"":0}`, `["a","b"`, `[1 2]`, `{"a":-}`, `{"a":0.1e1}`,
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
	strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000),
	strings.Repeat(`{"a":`, 10001) + "1" + strings.Repeat("}", 10001),
	`{"data":"` + strings.Repeat("x", 1<<16) + `"}`,
}

// TestValidMatchesEncodingJSON checks the verdict on hand-picked inputs,
// including the nesting limit on both sides of 10000.
func TestValidMatchesEncodingJSON(t *testing.T) {
	for _, c := range cases {
		if got, want := rawjson.Valid([]byte(c)), json.Valid([]byte(c)); got != want {
			name := c
			if len(name) > 60 {
				name = name[:60] + "…"
			}
			t.Errorf("Valid(%q) = %v, json.Valid says %v", name, got, want)
		}
	}
}

// FuzzValid compares Valid with json.Valid on arbitrary bytes. `go test`
// runs the seeds; `go test ./internal/rawjson -fuzz FuzzValid` explores.
func FuzzValid(f *testing.F) {
	for _, c := range cases {
		if len(c) < 1000 {
			f.Add([]byte(c))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if got, want := rawjson.Valid(data), json.Valid(data); got != want {
			t.Fatalf("Valid(%q) = %v, json.Valid says %v", data, got, want)
		}
	})
}

func BenchmarkValid(b *testing.B) {
	for _, n := range []int{1 << 10, 256 << 10} {
		data := []byte(`{"data":"` + strings.Repeat("x", n) + `","n":[1,2.5,-3e4,true,null,{"a":"\u00e9"}]}`)
		b.Run("rawjson/"+sizeName(n), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				rawjson.Valid(data)
			}
		})
		b.Run("encoding-json/"+sizeName(n), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				json.Valid(data)
			}
		})
	}
}

func sizeName(n int) string { return strconv.Itoa(n>>10) + "KiB" }

// TestEveryByteEveryLane puts each byte value at each position of a long
// string (so the eight-bytes-at-a-time scan sees it in every lane).
func TestEveryByteEveryLane(t *testing.T) {
	for c := range 256 {
		for pos := range 24 {
			s := []byte(`"` + strings.Repeat("x", 24) + `"`)
			s[1+pos] = byte(c)
			if got, want := rawjson.Valid(s), json.Valid(s); got != want {
				t.Fatalf("Valid(%q) = %v, json.Valid says %v", s, got, want)
			}
		}
	}
}
