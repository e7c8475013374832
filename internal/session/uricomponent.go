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
		next, ok := decodeEscapedCodePoint(&b, s, i)
		if !ok {
			return "", false
		}
		i = next
	}
	return b.String(), true
}

// decodeEscapedCodePoint decodes the escapes of one code point at s[i:]
// (one to four "%XX", its UTF-8 bytes) into b, and returns the index after
// them; false when they are no valid UTF-8 sequence.
func decodeEscapedCodePoint(b *strings.Builder, s string, i int) (int, bool) {
	c, ok := escapedByte(s, i)
	if !ok {
		return 0, false
	}
	i += 3
	n := utf8SeqLen(c)
	if n == 0 {
		return 0, false
	}
	seq := []byte{c}
	for k := 1; k < n; k++ {
		c, ok := escapedByte(s, i)
		if !ok || c&0xc0 != 0x80 {
			return 0, false
		}
		seq = append(seq, c)
		i += 3
	}
	if !utf8.Valid(seq) {
		return 0, false
	}
	b.Write(seq)
	return i, true
}

// utf8SeqLen is the length of the UTF-8 sequence that starts with lead, by
// its high bits alone; 0 when lead cannot start one.
func utf8SeqLen(lead byte) int {
	switch {
	case lead < 0x80:
		return 1
	case lead&0xe0 == 0xc0:
		return 2
	case lead&0xf0 == 0xe0:
		return 3
	case lead&0xf8 == 0xf0:
		return 4
	}
	return 0
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
