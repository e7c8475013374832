package rawjson_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/routeapi/routeapi/internal/rawjson"
)

const depth = 512

// TestCheckRules: each rule, on both sides of its boundary, with the pointer
// of the offending member.
func TestCheckRules(t *testing.T) {
	nest := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	for _, tc := range []struct {
		in      string
		rule    rawjson.Rule // "" for accepted
		pointer string
	}{
		{`{"data":"caf` + "\xe9" + `"}`, rawjson.RuleUTF8, "/data"},
		{`{"data":"café"}`, "", ""},
		{"{\"d\xffx\":1}", rawjson.RuleUTF8, "/d\ufffdx"},
		{`{"data":"\ud800"}`, rawjson.RuleSurrogate, "/data"},
		{`{"data":"\udc00\ud800"}`, rawjson.RuleSurrogate, "/data"},
		{`{"data":"\ud800\u0041"}`, rawjson.RuleSurrogate, "/data"},
		{`{"data":"x\ud83d\ude00y"}`, "", ""},
		{`{"data":"\ud83d\ude00\udc00"}`, rawjson.RuleSurrogate, "/data"},
		{`{"data":"\u0000 NUL is kept"}`, "", ""},
		{`{"data":{"a":1,"b":{"c":[1,{"k":1,"k":2}]}}}`, rawjson.RuleDuplicate, "/data/b/c/1/k"},
		{`{"data":{"a":1,"\u0061":2}}`, rawjson.RuleDuplicate, "/data/a"},
		{`{"data":{"a/b~":{"x":1e400}}}`, rawjson.RuleNumberRange, "/data/a~1b~0/x"},
		{`{"data":[1,-1e400]}`, rawjson.RuleNumberRange, "/data/1"},
		{`{"data":1.7976931348623157e308}`, "", ""},
		{`{"data":1.7976931348623159e308}`, rawjson.RuleNumberRange, "/data"},
		{`{"data":9007199254740993}`, rawjson.RuleNumberPrecision, "/data"},
		{`{"data":9007199254740992}`, "", ""},
		{`{"data":-9007199254740992}`, "", ""},
		{`{"data":9007199254740994}`, "", ""}, // exact in float64
		{`{"data":123456789012345678}`, rawjson.RuleNumberPrecision, "/data"},
		{`{"data":1e-400}`, rawjson.RuleNumberPrecision, "/data"},
		{`{"data":5e-324}`, "", ""},
		{`{"data":4.9e-324}`, rawjson.RuleNumberPrecision, "/data"},
		{`{"data":0.1000000000000000000001}`, rawjson.RuleNumberPrecision, "/data"},
		{`{"data":[0.1,1.0,-0,-0.0,1E2,1e+2,100e-2,0.30000000000000004,1e22,0e999999999999]}`, "", ""},
		{`{"data":` + nest(depth-1) + `}`, "", ""},
		{`{"data":` + nest(depth) + `}`, rawjson.RuleDepth, "/data" + strings.Repeat("/0", depth-1)},
	} {
		name := tc.in
		if len(name) > 50 {
			name = name[:50]
		}
		t.Run(name, func(t *testing.T) {
			_, err := rawjson.Check([]byte(tc.in), depth)
			var p *rawjson.Problem
			switch {
			case tc.rule == "" && err != nil:
				t.Fatalf("Check = %v, want accepted", err)
			case tc.rule == "":
				return
			case !errors.As(err, &p):
				t.Fatalf("Check = %v, want rule %s", err, tc.rule)
			case p.Rule != tc.rule || p.Pointer != tc.pointer:
				t.Fatalf("Check = rule %s at %q (%s), want %s at %q", p.Rule, p.Pointer, p.Detail, tc.rule, tc.pointer)
			}
		})
	}
}

// TestCheckInvalidFirst: a text that is not JSON is ErrInvalid even when a
// rule is broken before the syntax error.
func TestCheckInvalidFirst(t *testing.T) {
	for _, in := range []string{`{"data":"\ud800",}`, `{"data":1e400`, "[\"\xff\" 1]", ``, `{"a":1}{}`} {
		if _, err := rawjson.Check([]byte(in), depth); !errors.Is(err, rawjson.ErrInvalid) {
			t.Errorf("Check(%q) = %v, want ErrInvalid", in, err)
		}
	}
}

// TestCheckMembers: the top-level members, names decoded, values as sent.
func TestCheckMembers(t *testing.T) {
	m, err := rawjson.Check([]byte(` { "d\u0061ta" : [1, "x"] , "b":{"c":null} } `), depth)
	if err != nil {
		t.Fatal(err)
	}
	want := []rawjson.Member{{Name: "data", Value: []byte(`[1, "x"]`), Offset: 17}, {Name: "b", Value: []byte(`{"c":null}`), Offset: 32}}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("members %+v, want %+v", m, want)
	}
}

// inngestModel is what Inngest's Event API does to a value: encoding/json
// into any (numbers become float64, later duplicates win, bad UTF-8 and lone
// surrogates become U+FFFD), then json.Marshal when it stores it.
func inngestModel(data []byte) ([]byte, error) {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// sameValue reports whether two JSON texts hold the same value, comparing
// numbers as exact decimals (big.Rat), not as float64.
func sameValue(a, b []byte) bool {
	decode := func(d []byte) (any, bool) {
		dec := json.NewDecoder(bytes.NewReader(d))
		dec.UseNumber()
		var v any
		return v, dec.Decode(&v) == nil
	}
	x, ok1 := decode(a)
	y, ok2 := decode(b)
	return ok1 && ok2 && equal(x, y)
}

func equal(x, y any) bool {
	switch x := x.(type) {
	case json.Number:
		y, ok := y.(json.Number)
		if !ok {
			return false
		}
		rx, ok1 := rat(x)
		ry, ok2 := rat(y)
		return ok1 && ok2 && rx.Cmp(ry) == 0
	case []any:
		y, ok := y.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equal(x[i], y[i]) {
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
			if w, ok := y[k]; !ok || !equal(v, w) {
				return false
			}
		}
		return true
	default:
		return x == y
	}
}

// rat is n's exact value; a zero mantissa is 0 whatever its exponent
// (big.Rat refuses exponents beyond about 1e10).
func rat(n json.Number) (*big.Rat, bool) {
	mantissa, _, _ := strings.Cut(strings.ToLower(string(n)), "e")
	if strings.Trim(mantissa, "-0.") == "" {
		return new(big.Rat), true
	}
	return new(big.Rat).SetString(string(n))
}

// names counts member names as written (duplicates included), through json.Decoder tokens.
func names(data []byte) int {
	dec := json.NewDecoder(bytes.NewReader(data))
	n := 0
	var stack []bool // object?
	wantKey := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return n
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, true)
			wantKey = true
			continue
		case json.Delim('['):
			stack = append(stack, false)
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		default:
			if wantKey {
				n++
				wantKey = false
				continue
			}
		}
		wantKey = len(stack) > 0 && stack[len(stack)-1] && tok != json.Delim('[')
		if tok == json.Delim('[') {
			wantKey = false
		}
	}
}

// FuzzCheck compares Check with encoding/json, Inngest's decoder:
//   - Check says ErrInvalid exactly when json.Valid says false;
//   - whatever Check accepts, the Inngest model decodes without error and
//     stores as the same value (numbers compared exactly), with no name lost
//     and no U+FFFD that was not sent;
//   - whatever it refuses under a number rule, the model refuses or changes;
//   - the members it returns are json.Unmarshal's into map[string]json.RawMessage.
//
// `go test` runs the seeds; `go test ./internal/rawjson -fuzz FuzzCheck` explores.
func FuzzCheck(f *testing.F) {
	for _, c := range cases {
		if len(c) < 1000 {
			f.Add([]byte(c))
		}
	}
	for _, c := range []string{
		`{"data":"\ud800"}`, `{"a":"\ud83d\ude00"}`, `[9007199254740993]`, `[1e400]`, `[1e-400]`, `[-0]`, `[1.0]`,
		`{"a":1,"a":1}`, `{"a":{"b":1},"b":{"a":1}}`, "[\"\xe9\"]", `["\u0000"]`, `[0.1000000000000000000001]`,
		`[123456789012345678901234567890]`, `[1.5e300, 2.5e-300, 4.9e-324, 5e-324]`, `{"\ufffd":"\ufffd"}`,
	} {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		members, err := rawjson.Check(data, 20)
		if errors.Is(err, rawjson.ErrInvalid) != !json.Valid(data) {
			t.Fatalf("Check(%q) = %v, json.Valid says %v", data, err, json.Valid(data))
		}
		if errors.Is(err, rawjson.ErrInvalid) {
			return
		}
		stored, merr := inngestModel(data)
		var p *rawjson.Problem
		if errors.As(err, &p) {
			if (p.Rule == rawjson.RuleNumberRange || p.Rule == rawjson.RuleNumberPrecision) && merr == nil && sameValue(data, stored) {
				t.Fatalf("Check(%q) refused %s at %q, but Inngest keeps it: %s", data, p.Rule, p.Pointer, stored)
			}
			return
		}
		if err != nil {
			t.Fatalf("Check(%q) = %v", data, err)
		}
		if merr != nil {
			t.Fatalf("Check(%q) accepted, Inngest refuses: %v", data, merr)
		}
		if !sameValue(data, stored) {
			t.Fatalf("Check(%q) accepted, Inngest stores %s", data, stored)
		}
		if !utf8.Valid(data) {
			t.Fatalf("Check(%q) accepted invalid UTF-8", data)
		}
		if n, m := names(data), names(stored); n != m {
			t.Fatalf("Check(%q) accepted %d names, Inngest keeps %d: %s", data, n, m, stored)
		}
		sent := strings.Count(string(data), "\ufffd") + strings.Count(strings.ToLower(string(data)), `\ufffd`)
		if got := strings.Count(string(stored), "\ufffd"); got > sent {
			t.Fatalf("Check(%q) accepted, Inngest stores %d U+FFFD: %s", data, got, stored)
		}
		var want map[string]json.RawMessage
		if json.Unmarshal(data, &want) == nil && want != nil {
			if len(members) != len(want) {
				t.Fatalf("Check(%q) members %+v, want %s", data, members, want)
			}
			for _, m := range members {
				if !bytes.Equal(m.Value, want[m.Name]) {
					t.Fatalf("Check(%q) member %q = %s, want %s", data, m.Name, m.Value, want[m.Name])
				}
			}
		} else if members != nil {
			t.Fatalf("Check(%q) members %+v for a non-object", data, members)
		}
	})
}

func BenchmarkCheck(b *testing.B) {
	for _, n := range []int{1 << 10, 256 << 10} {
		data := []byte(`{"data":"` + strings.Repeat("x", n) + `","n":[1,2.5,-3e4,true,null,{"a":"\u00e9"}]}`)
		b.Run(sizeName(n), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				_, _ = rawjson.Check(data, depth)
			}
		})
	}
}

// TestCheckEveryByteEveryLane puts each byte value at each position of a
// long string (so the eight-bytes-at-a-time scan sees it in every lane):
// invalid JSON exactly when json.Valid says so, a lone byte of 0x80 or more
// breaks RuleUTF8, and every other byte is accepted.
func TestCheckEveryByteEveryLane(t *testing.T) {
	for c := range 256 {
		for pos := range 24 {
			s := []byte(`"` + strings.Repeat("x", 24) + `"`)
			s[1+pos] = byte(c)
			_, err := rawjson.Check(s, depth)
			var p *rawjson.Problem
			switch {
			case !json.Valid(s):
				if !errors.Is(err, rawjson.ErrInvalid) {
					t.Fatalf("Check(%q) = %v, want ErrInvalid", s, err)
				}
			case c >= 0x80:
				if !errors.As(err, &p) || p.Rule != rawjson.RuleUTF8 {
					t.Fatalf("Check(%q) = %v, want %s", s, err, rawjson.RuleUTF8)
				}
			case err != nil:
				t.Fatalf("Check(%q) = %v", s, err)
			}
		}
	}
}
