package rawjson

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Compact returns the JSON value raw without white space outside its
// strings, as json.Compact writes it: raw itself when it has none (the usual
// case, found by jumping from quote to quote with bytes.IndexByte instead of
// encoding/json's byte-by-byte scanner), else a compacted copy.
func Compact(raw []byte) ([]byte, error) {
	if !spaceOutsideStrings(raw) {
		return raw, nil
	}
	var b bytes.Buffer
	b.Grow(len(raw))
	if err := json.Compact(&b, raw); err != nil {
		return nil, fmt.Errorf("compact JSON: %w", err)
	}
	return b.Bytes(), nil
}

// spaceOutsideStrings reports whether the JSON value raw has white space
// outside its strings, the only thing json.Compact would change.
func spaceOutsideStrings(raw []byte) bool {
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case ' ', '\t', '\r', '\n':
			return true
		case '"':
			i = stringEnd(raw, i+1)
		}
	}
	return false
}

// stringEnd returns the index of the quote that closes the string whose
// contents start at i (len(raw) when there is none). It looks at
// backslashes only before a quote, and looks for the next quote again only
// once an escape has taken the one it found: each byte is looked at a
// bounded number of times, so a string of many escapes (a 3 MiB
// "\u003c\u003c…") takes linear time, not time quadratic in its escapes.
func stringEnd(raw []byte, i int) int {
	q := -1 // the first quote at or after i, once found
	for {
		if q < i {
			n := bytes.IndexByte(raw[i:], '"')
			if n < 0 {
				return len(raw)
			}
			q = i + n
		}
		bs := bytes.IndexByte(raw[i:q], '\\')
		if bs < 0 {
			return q
		}
		i += bs + 2 // past the backslash and the character it escapes
		if i > len(raw) {
			return len(raw)
		}
	}
}
