package events

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzSpaceOutsideStrings: for every valid JSON value, spaceOutsideStrings
// says exactly whether json.Compact would change it.
func FuzzSpaceOutsideStrings(f *testing.F) {
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
		if got, want := spaceOutsideStrings(raw), !bytes.Equal(b.Bytes(), raw); got != want {
			t.Fatalf("spaceOutsideStrings(%q) = %v, json.Compact changes it: %v", raw, got, want)
		}
	})
}
