package rawjson_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/routeapi/routeapi/internal/rawjson"
)

// FuzzCompact: for every valid JSON value, Compact gives json.Compact's
// bytes, and raw itself when there is nothing to remove.
func FuzzCompact(f *testing.F) {
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
		got, err := rawjson.Compact(raw)
		if err != nil || !bytes.Equal(got, b.Bytes()) {
			t.Fatalf("Compact(%q) = %q, %v; json.Compact gives %q", raw, got, err, b.Bytes())
		}
		if bytes.Equal(raw, b.Bytes()) && &got[0] != &raw[0] {
			t.Fatalf("Compact(%q) copied a compact value", raw)
		}
	})
}
