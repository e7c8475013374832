package api

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// topLevel splits data, which must be valid JSON (json.Valid), into the
// members of its top-level object, without decoding the values: each value
// is its bytes as sent. ok is false when data is not an object. It gives what
// json.Unmarshal into map[string]json.RawMessage gives (later duplicates
// win), with one scan that skips strings with bytes.IndexByte instead of
// encoding/json's byte-by-byte state machine; the values alias data.
func topLevel(data []byte) (members map[string]json.RawMessage, ok bool) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, false
	}
	members = map[string]json.RawMessage{}
	i++
	for {
		i = skipSpace(data, i)
		switch data[i] {
		case '}':
			return members, true
		case ',':
			i = skipSpace(data, i+1)
		}
		end := stringEnd(data, i)
		key := memberName(data[i:end])
		i = skipSpace(data, end) // at ':'
		i = skipSpace(data, i+1)
		vend := valueEnd(data, i)
		members[key] = data[i:vend:vend]
		i = vend
	}
}

// memberName decodes a member name token (with its quotes).
func memberName(tok []byte) string {
	inner := tok[1 : len(tok)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner)
	}
	var s string
	_ = json.Unmarshal(tok, &s) // valid JSON: cannot fail
	return s
}

func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// stringEnd returns the index just after the string that starts at data[i].
func stringEnd(data []byte, i int) int {
	j := i + 1
	for {
		q := bytes.IndexByte(data[j:], '"')
		if q < 0 {
			return len(data) // unreachable for valid JSON
		}
		q += j
		backslashes := 0
		for k := q - 1; k > i && data[k] == '\\'; k-- {
			backslashes++
		}
		if backslashes%2 == 0 {
			return q + 1
		}
		j = q + 1
	}
}

// valueEnd returns the index just after the value that starts at data[i].
func valueEnd(data []byte, i int) int {
	switch data[i] {
	case '"':
		return stringEnd(data, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(data); {
			switch data[j] {
			case '"':
				j = stringEnd(data, j)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
			j++
		}
		return len(data)
	}
	j := i
	for j < len(data) {
		switch data[j] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			return j
		}
		j++
	}
	return j
}
