package api

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzTopLevel checks topLevel against json.Unmarshal into
// map[string]json.RawMessage on every valid JSON input.
func FuzzTopLevel(f *testing.F) {
	for _, seed := range []string{
		`{"data":"data"}`, ` { "data" : { "a" : [1, "]}\"" , {"b":null}] } , "x":true } `,
		`{"data":1,"data":2}`, `{}`, `[]`, `null`, `"s"`, `{"a\"b":"c\\","d\u0065":-1.5e3}`,
		`{"k":"\\\\\""}`, "{\"\xff\":1}", `{"data":[[[]]],"e":{}}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		data := []byte(s)
		if !json.Valid(data) {
			return
		}
		var want map[string]json.RawMessage
		err := json.Unmarshal(data, &want)
		got, ok := topLevel(data)
		if ok != (err == nil && want != nil) {
			t.Fatalf("%q: ok %v, json.Unmarshal: %v, %v", s, ok, want, err)
		}
		if !ok {
			return
		}
		if len(got) != len(want) {
			t.Fatalf("%q: %d members, want %d (%v vs %v)", s, len(got), len(want), got, want)
		}
		for k, v := range want {
			if !bytes.Equal(got[k], v) {
				t.Fatalf("%q: member %q = %s, want %s", s, k, got[k], v)
			}
		}
	})
}
