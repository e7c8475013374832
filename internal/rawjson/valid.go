// Package rawjson owns routeapi's scanning of JSON bytes: Valid
// (encoding/json's verdict, faster), Check (Valid plus the rules of what
// Inngest's Event API keeps unchanged, in the same pass, with the members of
// the top-level object) and Compact (json.Compact without encoding/json's
// byte-by-byte scanner when there is nothing to remove). Values are never
// decoded: they stay the bytes as sent.
//
// json.Valid feeds every byte through encoding/json's scanner, one indirect
// call per byte (about 150 MB/s on the development machine). The scanner here
// is a direct recursive descent: string contents, which make up almost all of
// a large payload, are scanned eight bytes at a time (about 3.6 GB/s). Like
// json.Valid, Valid does not check UTF-8 (encoding/json accepts invalid UTF-8
// in strings and replaces it when decoding) and refuses nesting deeper than
// encoding/json's limit of 10000. FuzzValid and FuzzCheck compare with
// encoding/json.
package rawjson

import "encoding/binary"

// maxNestingDepth is encoding/json's limit on nested arrays and objects.
const maxNestingDepth = 10000

// plain marks the bytes that may appear in a string as they are: not a
// quote, not a backslash, not a control character.
var plain = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c >= 0x20 && c != '"' && c != '\\'
	}
	return t
}()

// ascii marks the plain bytes below 0x80 (Check looks at the others).
var ascii = func() (t [256]bool) {
	for c := range 256 {
		t[c] = plain[c] && c < 0x80
	}
	return t
}()

// Valid reports whether data is exactly one JSON value, optionally
// surrounded by white space, as json.Valid does.
func Valid(data []byte) bool {
	s := scanner{data: data}
	return s.run()
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// special reports whether any byte of w is not plain: below 0x20, a quote
// or a backslash. (x - ones) &^ x & highs is non-zero exactly when x has a
// zero byte; (w - 0x20*ones) &^ w & highs exactly when w has a byte below 0x20.
func special(w uint64) bool {
	q := w ^ ('"' * ones)
	b := w ^ ('\\' * ones)
	return ((w-0x20*ones)&^w|(q-ones)&^q|(b-ones)&^b)&highs != 0
}

// specialOrHigh is special, or any byte of w is 0x80 or above (the start or
// continuation of a UTF-8 sequence, which Check decodes).
func specialOrHigh(w uint64) bool {
	q := w ^ ('"' * ones)
	b := w ^ ('\\' * ones)
	return ((w-0x20*ones)&^w|w|(q-ones)&^q|(b-ones)&^b)&highs != 0
}

func word(d []byte, i int) uint64 { return binary.LittleEndian.Uint64(d[i:]) }

func hex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func hexVal(c byte) rune {
	switch {
	case c >= '0' && c <= '9':
		return rune(c - '0')
	case c >= 'a' && c <= 'f':
		return rune(c-'a') + 10
	default:
		return rune(c-'A') + 10
	}
}

func digit(c byte) bool { return c >= '0' && c <= '9' }
