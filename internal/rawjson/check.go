package rawjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// ErrInvalid means the bytes are not exactly one JSON value (json.Valid's verdict).
var ErrInvalid = errors.New("not one valid JSON value")

// Rule names one rule of what Inngest keeps unchanged (see Check).
type Rule string

// The rules Check applies, each from how Inngest's Event API decodes an event
// (github.com/inngest/inngest, pkg/api/api.go ReceiveEvent: json.Unmarshal
// into event.Event, whose data is map[string]any) and stores it again
// (json.Marshal).
const (
	// RuleUTF8: strings (member names too) must be UTF-8 (RFC 8259 §8.1).
	// encoding/json replaces each invalid byte with U+FFFD, silently.
	RuleUTF8 Rule = "utf8"
	// RuleSurrogate: a \uD800-\uDFFF escape must be half of a surrogate
	// pair. encoding/json turns a lone half into U+FFFD, silently.
	RuleSurrogate Rule = "surrogate"
	// RuleDuplicate: member names must be unique within an object (RFC 8259
	// §4 "SHOULD"). Decoding into a map keeps the last one, silently.
	RuleDuplicate Rule = "duplicate-name"
	// RuleNumberRange: a number must be within float64's range. Inngest
	// refuses the whole event ("cannot unmarshal number 1e400").
	RuleNumberRange Rule = "number-range"
	// RuleNumberPrecision: a number must have the value of the float64
	// Inngest decodes it to (the shortest decimal of that float64, as
	// encoding/json and JavaScript write it, is the same number). Integers
	// beyond ±2^53 and decimals with more than 15 to 17 significant digits
	// change, silently; so does a non-zero number that underflows to 0.
	RuleNumberPrecision Rule = "number-precision"
	// RuleDepth: arrays and objects may nest at most the given depth. Inngest
	// decodes with encoding/json's limit of 10000 for the whole event and
	// wraps the event again before storing it (at a depth of 9998 the dev
	// server answers 200 and stores nothing), so routeapi keeps far below it.
	RuleDepth Rule = "depth"
)

// Problem is the first rule a valid JSON text breaks.
type Problem struct {
	Rule Rule
	// Pointer is the JSON pointer (RFC 6901) of the member or element that
	// breaks the rule, from the root of the checked text ("" for the root).
	Pointer string
	// Offset is the byte offset in the checked text where it starts.
	Offset int
	// Detail says what is wrong, for the caller.
	Detail string
}

func (p *Problem) Error() string {
	return fmt.Sprintf("at %q: %s", p.Pointer, p.Detail)
}

// Member is one member of an object: its decoded name and its value's bytes
// as sent (aliasing the checked text).
type Member struct {
	Name  string
	Value []byte
	// Offset is where Value starts in the checked text.
	Offset int
}

// Check reports whether data is one JSON value (ErrInvalid if not, whatever
// else is wrong) that every rule above allows with nesting at most maxDepth
// deep (a *Problem for the first one it breaks). For an object it returns
// its members in order. One pass does it all, at about Valid's speed for
// ASCII strings.
func Check(data []byte, maxDepth int) ([]Member, error) {
	s := scanner{data: data, check: true, maxDepth: maxDepth}
	if !s.run() {
		return nil, ErrInvalid
	}
	if s.prob != nil {
		s.prob.Pointer = pointerAt(data, s.prob.Offset)
		return nil, s.prob
	}
	return s.members, nil
}

// scanner is Valid's recursive descent; with check set it also applies the
// rules, remembers the first one broken (and then only validates) and
// collects the top-level members.
type scanner struct {
	data     []byte
	check    bool
	maxDepth int
	prob     *Problem
	// names holds the member names of the objects being scanned, innermost
	// last, to find duplicates.
	names   [][]byte
	members []Member
	// pairLow is the offset of the \u escape that completes the surrogate
	// pair begun just before it (never 0: a string starts with a quote).
	pairLow int
}

func (s *scanner) run() bool {
	i, ok := s.value(s.space(0), 0)
	return ok && s.space(i) == len(s.data)
}

// fail records the first broken rule and stops checking (validity is still scanned).
func (s *scanner) fail(r Rule, offset int, detail string) {
	s.prob = &Problem{Rule: r, Offset: offset, Detail: detail}
	s.check = false
}

func (s *scanner) space(i int) int {
	for i < len(s.data) {
		switch s.data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// value scans the value starting at i (white space already skipped) and
// returns the index after it. depth counts the arrays and objects around it.
func (s *scanner) value(i, depth int) (int, bool) {
	if i >= len(s.data) {
		return i, false
	}
	switch c := s.data[i]; {
	case c == '"':
		end, _, ok := s.str(i)
		return end, ok
	case c == '{':
		return s.object(i, depth+1)
	case c == '[':
		return s.array(i, depth+1)
	case c == 't':
		return s.literal(i, "true")
	case c == 'f':
		return s.literal(i, "false")
	case c == 'n':
		return s.literal(i, "null")
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number(i)
	}
	return i, false
}

func (s *scanner) literal(i int, lit string) (int, bool) {
	if len(s.data)-i < len(lit) || string(s.data[i:i+len(lit)]) != lit {
		return i, false
	}
	return i + len(lit), true
}

// str scans the string starting at the quote at i; escaped reports a backslash in it.
func (s *scanner) str(start int) (end int, escaped, ok bool) {
	d := s.data
	i := start + 1
	for {
		if s.check {
			for i+8 <= len(d) && !specialOrHigh(word(d, i)) {
				i += 8
			}
			for i < len(d) && ascii[d[i]] {
				i++
			}
		} else {
			for i+8 <= len(d) && !special(word(d, i)) {
				i += 8
			}
			for i < len(d) && plain[d[i]] {
				i++
			}
		}
		if i >= len(d) {
			return i, escaped, false
		}
		switch c := d[i]; {
		case c == '"':
			return i + 1, escaped, true
		case c >= 0x80: // only while checking
			r, n := utf8.DecodeRune(d[i:])
			if r == utf8.RuneError && n == 1 {
				s.fail(RuleUTF8, start, fmt.Sprintf("A string holds the byte 0x%02X, which is not UTF-8: JSON must be UTF-8 (RFC 8259 §8.1), and Inngest would store U+FFFD in its place.", c))
			}
			i += n
		case c == '\\':
			escaped = true
			if i+1 >= len(d) {
				return i, escaped, false
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if len(d)-i < 6 || !hex(d[i+2]) || !hex(d[i+3]) || !hex(d[i+4]) || !hex(d[i+5]) {
					return i, escaped, false
				}
				if s.check {
					s.surrogate(start, i)
				}
				i += 6
			default:
				return i, escaped, false
			}
		default: // a control character
			return i, escaped, false
		}
	}
}

// surrogate checks the \u escape at i (four hex digits known): a high
// surrogate must be followed by a \u low surrogate, and a low one must
// follow a high one (which consumed it, so it never gets here).
func (s *scanner) surrogate(start, i int) {
	d := s.data
	r := hexVal(d[i+2])<<12 | hexVal(d[i+3])<<8 | hexVal(d[i+4])<<4 | hexVal(d[i+5])
	if r < 0xD800 || r > 0xDFFF {
		return
	}
	if r <= 0xDBFF && len(d)-i >= 12 && d[i+6] == '\\' && d[i+7] == 'u' &&
		hex(d[i+8]) && hex(d[i+9]) && hex(d[i+10]) && hex(d[i+11]) {
		lo := hexVal(d[i+8])<<12 | hexVal(d[i+9])<<8 | hexVal(d[i+10])<<4 | hexVal(d[i+11])
		if lo >= 0xDC00 && lo <= 0xDFFF {
			// Skip the low half: str sees it next, and it is fine.
			s.pairLow = i + 6
			return
		}
	}
	if s.pairLow == i {
		return
	}
	s.fail(RuleSurrogate, start, fmt.Sprintf("A string holds the escape %s, half of a UTF-16 surrogate pair without its other half: it is no character, and Inngest would store U+FFFD in its place.", d[i:i+6]))
}

// number scans -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? at i.
func (s *scanner) number(start int) (int, bool) {
	d := s.data
	i := start
	if d[i] == '-' {
		i++
	}
	switch {
	case i >= len(d):
		return i, false
	case d[i] == '0':
		i++
	case d[i] >= '1' && d[i] <= '9':
		for i < len(d) && digit(d[i]) {
			i++
		}
	default:
		return i, false
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || !digit(d[i]) {
			return i, false
		}
		for i < len(d) && digit(d[i]) {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || !digit(d[i]) {
			return i, false
		}
		for i < len(d) && digit(d[i]) {
			i++
		}
	}
	if s.check {
		if r, detail := numberRule(d[start:i]); r != "" {
			s.fail(r, start, detail)
		}
	}
	return i, true
}

// tooDeep records the depth rule for the container at i.
func (s *scanner) tooDeep(i, depth int) bool {
	if s.check && depth > s.maxDepth {
		s.fail(RuleDepth, i, fmt.Sprintf("Arrays and objects nest more than %d deep here.", s.maxDepth))
	}
	return depth > maxNestingDepth
}

// smallObject is how many names an object may have before duplicates are
// found with a map instead of comparing each new name with the others.
const smallObject = 16

// object scans the object starting at the brace at i.
func (s *scanner) object(i, depth int) (int, bool) {
	if s.tooDeep(i, depth) {
		return i, false
	}
	first := len(s.names)
	defer func() { s.names = s.names[:first] }()
	var seen map[string]struct{}
	i = s.space(i + 1)
	if i < len(s.data) && s.data[i] == '}' {
		return i + 1, true
	}
	for {
		if i >= len(s.data) || s.data[i] != '"' {
			return i, false
		}
		keyAt := i
		end, escaped, ok := s.str(i)
		if !ok {
			return end, false
		}
		var name []byte
		if s.check {
			name = s.data[keyAt+1 : end-1]
			if escaped {
				name = unquote(s.data[keyAt:end])
			}
			if s.duplicate(first, name, &seen) {
				s.fail(RuleDuplicate, keyAt, fmt.Sprintf("The member name %q appears twice in one object: Inngest would keep only the last one.", name))
			}
		}
		i = s.space(end)
		if i >= len(s.data) || s.data[i] != ':' {
			return i, false
		}
		valueAt := s.space(i + 1)
		if i, ok = s.value(valueAt, depth); !ok {
			return i, false
		}
		if depth == 1 && s.check {
			s.members = append(s.members, Member{Name: string(name), Value: s.data[valueAt:i:i], Offset: valueAt})
		}
		i = s.space(i)
		if i >= len(s.data) {
			return i, false
		}
		switch s.data[i] {
		case ',':
			i = s.space(i + 1)
		case '}':
			return i + 1, true
		default:
			return i, false
		}
	}
}

// duplicate reports whether name is among the names of the object whose
// names start at first, and adds it.
func (s *scanner) duplicate(first int, name []byte, seen *map[string]struct{}) bool {
	if *seen != nil {
		if _, dup := (*seen)[string(name)]; dup {
			return true
		}
		(*seen)[string(name)] = struct{}{}
		return false
	}
	for _, n := range s.names[first:] {
		if bytes.Equal(n, name) {
			return true
		}
	}
	s.names = append(s.names, name)
	if len(s.names)-first > smallObject {
		*seen = make(map[string]struct{}, 2*smallObject)
		for _, n := range s.names[first:] {
			(*seen)[string(n)] = struct{}{}
		}
	}
	return false
}

// unquote decodes a string token known to be valid and UTF-8 with paired surrogates.
func unquote(tok []byte) []byte {
	var out string
	_ = json.Unmarshal(tok, &out) // cannot fail: checked
	return []byte(out)
}

// array scans the array starting at the bracket at i.
func (s *scanner) array(i, depth int) (int, bool) {
	if s.tooDeep(i, depth) {
		return i, false
	}
	i = s.space(i + 1)
	if i < len(s.data) && s.data[i] == ']' {
		return i + 1, true
	}
	for {
		var ok bool
		if i, ok = s.value(i, depth); !ok {
			return i, false
		}
		i = s.space(i)
		if i >= len(s.data) {
			return i, false
		}
		switch s.data[i] {
		case ',':
			i = s.space(i + 1)
		case ']':
			return i + 1, true
		default:
			return i, false
		}
	}
}
