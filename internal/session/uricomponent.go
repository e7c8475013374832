package session

import (
	"strings"
	"unicode/utf8"
)

// tryDecodeURIComponent is cookie's decode: JavaScript's decodeURIComponent
// when s holds a "%", s itself when that throws.
func tryDecodeURIComponent(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	if d, ok := decodeURIComponent(s); ok {
		return d
	}
	return s
}

// decodeURIComponent is JavaScript's decodeURIComponent on a header as Node
// decodes it (latin1, a byte per character): every other byte is kept, each
// %XX escape decoded, and false where JavaScript throws: a bad escape, or
// escapes that are not one UTF-8 sequence of a code point (ECMA-262 Decode:
// a stray continuation byte, a short sequence, an overlong form, a
// surrogate). A byte of 0x80 or above outside an escape is a character of
// its own to JavaScript (U+0080 to U+00FF), never an error.
func decodeURIComponent(s string) (string, bool) {
	if !strings.Contains(s, "%") {
		return s, true
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		if s[i] != '%' {
			b.WriteByte(s[i])
			i++
			continue
		}
		c, ok := escapedByte(s, i)
		if !ok {
			return "", false
		}
		i += 3
		n := 1
		switch {
		case c < 0x80:
		case c&0xe0 == 0xc0:
			n = 2
		case c&0xf0 == 0xe0:
			n = 3
		case c&0xf8 == 0xf0:
			n = 4
		default:
			return "", false
		}
		seq := []byte{c}
		for k := 1; k < n; k++ {
			c, ok := escapedByte(s, i)
			if !ok || c&0xc0 != 0x80 {
				return "", false
			}
			seq = append(seq, c)
			i += 3
		}
		if !utf8.Valid(seq) {
			return "", false
		}
		b.Write(seq)
	}
	return b.String(), true
}

// escapedByte is the byte of the escape "%XX" at s[i:], if it is one.
func escapedByte(s string, i int) (byte, bool) {
	if i+2 >= len(s) || s[i] != '%' {
		return 0, false
	}
	h, ok1 := unhex(s[i+1])
	l, ok2 := unhex(s[i+2])
	return h<<4 | l, ok1 && ok2
}

// unhex is the value of the hexadecimal digit c.
func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
