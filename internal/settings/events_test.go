package settings_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/routeapi/routeapi/api"
	"github.com/routeapi/routeapi/internal/settings"
)

// catalogue stands for the contract's event names (api.CatalogueNames);
// the api package's tests pass the real ones.
var catalogue = []string{"app/feedback.submitted", "shop/order.placed"}

// TestEventsDisabled: events.disabled names catalogue events; each is
// switched off, the others stay on.
func TestEventsDisabled(t *testing.T) {
	s, err := settings.ParseFor([]byte("events:\n  disabled: [' shop/order.placed ']\n"), catalogue)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Events.Disabled, []string{"shop/order.placed"}) {
		t.Errorf("Disabled = %q", s.Events.Disabled)
	}
	if !s.Events.IsDisabled("shop/order.placed") || s.Events.IsDisabled("app/feedback.submitted") {
		t.Errorf("IsDisabled wrong for %q", s.Events.Disabled)
	}
	for _, yaml := range []string{"", "events: {}\n", "events: {disabled: []}\n"} {
		s, err := settings.ParseFor([]byte(yaml), catalogue)
		if err != nil || len(s.Events.Disabled) != 0 || s.Events.IsDisabled("shop/order.placed") {
			t.Errorf("ParseFor(%q) = %q, %v; want nothing disabled", yaml, s.Events.Disabled, err)
		}
	}
}

// TestEventsDisabledRefused: a name the catalogue lacks, a name twice, a
// name Inngest refuses, an unknown key, a route.event that is a catalogue
// name: each refuses the file, naming the key and its line.
func TestEventsDisabledRefused(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"not in the catalogue", "events:\n  disabled:\n    - shop/order.placed\n    - shop/order.cancelled\n", []string{"line 4", "events.disabled[1]", `"shop/order.cancelled" is not an event of the catalogue`, "app/feedback.submitted, shop/order.placed"}},
		{"twice", "events:\n  disabled: [shop/order.placed, shop/order.placed]\n", []string{"line 2", "events.disabled[1]", "twice"}},
		{"empty", "events:\n  disabled: ['']\n", []string{"line 2", "events.disabled[0]", "must not be empty"}},
		{"reserved", "events:\n  disabled: [inngest/function.failed]\n", []string{"line 2", "events.disabled[0]", "reserved"}},
		{"unknown key", "events:\n  disable: [shop/order.placed]\n", []string{"line 2", "events.disable", "did you mean disabled?"}},
		{"not a list", "events:\n  disabled: shop/order.placed\n", []string{"line 2", "events.disabled", "want a list"}},
		{"route.event in the catalogue", "route:\n  event: shop/order.placed\n", []string{"line 2", "route.event", "catalogue", "RouteEvent"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := settings.ParseFor([]byte(tc.yaml), catalogue)
			if err == nil {
				t.Fatalf("ParseFor(%q): no error", tc.yaml)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	// Without a catalogue only the form is checked.
	if _, err := settings.Parse([]byte("events: {disabled: [shop/order.cancelled]}\nroute: {event: shop/order.placed}\n")); err != nil {
		t.Errorf("Parse without a catalogue: %v", err)
	}
}

// TestStoreChecksCatalogue: a store given the catalogue refuses a file that
// disables a name outside it, and keeps the last good settings.
func TestStoreChecksCatalogue(t *testing.T) {
	path := filepath.Join(t.TempDir(), "settings.yaml")
	if err := os.WriteFile(path, []byte("events: {disabled: [shop/order.placed]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	st := settings.NewStore(path, nil).WithCatalogue(catalogue)
	if err := st.Reload(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("events: {disabled: [shop/order.cancelled]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := st.Reload(); err == nil || !strings.Contains(err.Error(), "events.disabled[0]") {
		t.Fatalf("Reload = %v, want the catalogue error", err)
	}
	cur, err := st.Current()
	if err != nil || !cur.Events.IsDisabled("shop/order.placed") {
		t.Errorf("Current = %+v, %v; want the last good settings", cur.Events, err)
	}
}

// TestCheckEventName: Inngest's rules for an event name.
func TestCheckEventName(t *testing.T) {
	for name, ok := range map[string]bool{
		"app/route.requested":     true,
		"":                        false,
		"inngest/function.failed": false,
		"Inngest/x":               false,
		"INNGEST/x":               false,
		"inngestx/y":              true,
		"inngest":                 true,
		"app/inngest/x":           true,
		"Inngeſt/x":               true, // U+017F ſ is not s for strings.ToLower, which Inngest uses
		strings.Repeat("a", 255):  true,
		strings.Repeat("a", 256):  false,
	} {
		if err := settings.CheckEventName(name); (err == nil) != ok {
			t.Errorf("CheckEventName(%.20q) = %v, want ok=%v", name, err, ok)
		}
	}
}

// TestRealCatalogue: the repository's settings.yaml loads with the
// contract's catalogue, and each catalogue name can be switched off.
func TestRealCatalogue(t *testing.T) {
	names, err := api.CatalogueNames()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("../../settings.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := settings.ParseFor(data, names); err != nil {
		t.Errorf("settings.yaml: %v", err)
	}
	for _, n := range names {
		if _, err := settings.ParseFor([]byte("events: {disabled: ['"+n+"']}\n"), names); err != nil {
			t.Errorf("disabling %s: %v", n, err)
		}
	}
}
