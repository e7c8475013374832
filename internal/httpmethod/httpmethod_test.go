package httpmethod

import (
	"fmt"
	"testing"
)

func TestLabel(t *testing.T) {
	for _, m := range Known {
		if got := Label(m); got != m {
			t.Errorf("Label(%q) = %q", m, got)
		}
	}
	for _, m := range []string{"", "get", "Post", "PROPFIND", "M1", "GET ", "BREW"} {
		if got := Label(m); got != Other {
			t.Errorf("Label(%q) = %q, want %q", m, got, Other)
		}
	}
	seen := map[string]bool{}
	for i := range 1000 {
		seen[Label(fmt.Sprintf("M%d", i))] = true
	}
	if len(seen) != 1 {
		t.Errorf("1000 unknown methods gave %d labels", len(seen))
	}
}
