package session

import "testing"

// TestDecodeURIComponent: JavaScript's decodeURIComponent on header bytes as
// Node decodes them (latin1). The verdicts are node 20's (decodeURIComponent
// on the same strings); a byte ≥ 0x80 outside an escape is a character.
func TestDecodeURIComponent(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"abc", "abc", true}, {"%41", "A", true}, {"a+b%2B", "a+b+", true},
		{"%C3%A9", "é", true}, {"%e2%82%ac", "€", true}, {"%F0%9F%98%80", "😀", true},
		{"\xe9%41", "\xe9A", true}, {"\xa0", "\xa0", true},
		{"%", "", false}, {"%4", "", false}, {"x%", "", false}, {"%zz", "", false}, {"%%41", "", false},
		{"%C3", "", false}, {"%C3%41", "", false}, {"%80", "", false}, {"%FF", "", false},
		{"%C0%AF", "", false}, {"%E0%80%80", "", false}, {"%ED%A0%80", "", false}, {"%F4%90%80%80", "", false},
	} {
		got, ok := decodeURIComponent(c.in)
		if ok != c.ok || got != c.want {
			t.Errorf("decodeURIComponent(%q) = %q, %v; JavaScript: %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}
