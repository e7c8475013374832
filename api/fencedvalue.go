package api

import (
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// errFencedValue means bytes that are not the one JSON value decodeFenced
// expects; the caller then decodes them as kin-openapi does.
var errFencedValue = errors.New("not one JSON value")

// decodeFenced decodes a body fenceBody checked and found breaking no rule
// (rawjson.Check: exactly one JSON value, valid UTF-8, no lone surrogate
// escape, no member name twice in an object) into the value kin-openapi's
// JSONBodyDecoder makes of it (encoding/json's Decoder with UseNumber):
// objects as map[string]any, arrays as []any, numbers as json.Number with
// the text as sent, strings, bools and nil. It reads the bytes once,
// where encoding/json scans them twice (validity, then values) through a
// state machine, and the names, strings and numbers share one copy of
// data. A string with an escape is unescaped by encoding/json
// itself. On bytes that are not such a body it returns errFencedValue
// (never a different value): FuzzDecodeFenced compares it with
// encoding/json.
func decodeFenced(data []byte) (any, error) {
	d := fencedDecoder{data: data, text: string(data)}
	v, err := d.value()
	if err != nil {
		return nil, err
	}
	d.space()
	if d.i != len(d.data) {
		return nil, errFencedValue
	}
	return v, nil
}

// fencedDecoder is decodeFenced's position in its bytes.
type fencedDecoder struct {
	data []byte
	// text is data as one string: the names, strings and numbers without
	// an escape are slices of it, not one allocation each.
	text  string
	i     int
	depth int // arrays and objects open at the position
}

// maxFencedDepth is encoding/json's nesting limit: deeper is an error there.
const maxFencedDepth = 10000

// space skips JSON white space (RFC 8259 §2).
func (d *fencedDecoder) space() {
	for d.i < len(d.data) {
		switch d.data[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// nested decodes an object or an array with decode, one level deeper,
// refusing one past maxFencedDepth; nil on error.
func (d *fencedDecoder) nested(decode func() (any, error)) (any, error) {
	if d.depth >= maxFencedDepth {
		return nil, errFencedValue
	}
	d.depth++
	v, err := decode()
	d.depth--
	if err != nil {
		return nil, err
	}
	return v, nil
}

// value decodes the value at the position, after white space.
func (d *fencedDecoder) value() (any, error) {
	d.space()
	if d.i >= len(d.data) {
		return nil, errFencedValue
	}
	switch c := d.data[d.i]; {
	case c == '{':
		return d.nested(func() (any, error) { return d.object() })
	case c == '[':
		return d.nested(func() (any, error) { return d.array() })
	case c == '"':
		return d.str()
	case c == '-' || (c >= '0' && c <= '9'):
		start := d.i
		for d.i < len(d.data) && isNumberByte(d.data[d.i]) {
			d.i++
		}
		if !validNumber(d.data[start:d.i]) {
			return nil, errFencedValue
		}
		return json.Number(d.text[start:d.i]), nil
	case d.literal("true"):
		return true, nil
	case d.literal("false"):
		return false, nil
	case d.literal("null"):
		return nil, nil
	}
	return nil, errFencedValue
}

// validNumber reports whether tok is a JSON number (RFC 8259 §6):
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func validNumber(tok []byte) bool {
	i := 0
	digits := func() bool {
		start := i
		for i < len(tok) && tok[i] >= '0' && tok[i] <= '9' {
			i++
		}
		return i > start
	}
	if i < len(tok) && tok[i] == '-' {
		i++
	}
	switch {
	case i < len(tok) && tok[i] == '0':
		i++
	case !digits():
		return false
	}
	if i < len(tok) && tok[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(tok) && (tok[i] == 'e' || tok[i] == 'E') {
		i++
		if i < len(tok) && (tok[i] == '+' || tok[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	return i == len(tok)
}

// literal consumes lit at the position, if it is there.
func (d *fencedDecoder) literal(lit string) bool {
	if len(d.data)-d.i < len(lit) || string(d.data[d.i:d.i+len(lit)]) != lit {
		return false
	}
	d.i += len(lit)
	return true
}

// isNumberByte reports whether c may be part of a JSON number.
func isNumberByte(c byte) bool {
	return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}

// str decodes the string at the position: its bytes as they are when it
// has no escape and is UTF-8 (as the fence checked), else as encoding/json
// decodes it.
func (d *fencedDecoder) str() (string, error) {
	start := d.i
	escaped := false
	for d.i++; d.i < len(d.data); d.i++ {
		switch c := d.data[d.i]; {
		case c == '"':
			d.i++
			if raw := d.data[start+1 : d.i-1]; !escaped && utf8.Valid(raw) {
				return d.text[start+1 : d.i-1], nil
			}
			var s string
			if err := json.Unmarshal(d.data[start:d.i], &s); err != nil {
				return "", errFencedValue
			}
			return s, nil
		case c == '\\':
			escaped = true
			d.i++
		case c < 0x20:
			return "", errFencedValue
		}
	}
	return "", errFencedValue
}

// object decodes the object at the position.
func (d *fencedDecoder) object() (map[string]any, error) {
	m := map[string]any{}
	d.i++ // {
	d.space()
	if d.i < len(d.data) && d.data[d.i] == '}' {
		d.i++
		return m, nil
	}
	for {
		d.space()
		if d.i >= len(d.data) || d.data[d.i] != '"' {
			return nil, errFencedValue
		}
		name, err := d.str()
		if err != nil {
			return nil, err
		}
		d.space()
		if d.i >= len(d.data) || d.data[d.i] != ':' {
			return nil, errFencedValue
		}
		d.i++
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		m[name] = v
		d.space()
		if d.i >= len(d.data) {
			return nil, errFencedValue
		}
		switch d.data[d.i] {
		case ',':
			d.i++
		case '}':
			d.i++
			return m, nil
		default:
			return nil, errFencedValue
		}
	}
}

// array decodes the array at the position.
func (d *fencedDecoder) array() ([]any, error) {
	a := []any{}
	d.i++ // [
	d.space()
	if d.i < len(d.data) && d.data[d.i] == ']' {
		d.i++
		return a, nil
	}
	for {
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		d.space()
		if d.i >= len(d.data) {
			return nil, errFencedValue
		}
		switch d.data[d.i] {
		case ',':
			d.i++
		case ']':
			d.i++
			return a, nil
		default:
			return nil, errFencedValue
		}
	}
}
