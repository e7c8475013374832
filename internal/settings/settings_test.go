package settings_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/apitoken"
	"github.com/routeapi/routeapi/internal/settings"
)

func TestParse(t *testing.T) {
	// The default body limit leaves room for the envelope of the smallest
	// event (154 bytes with the default name and empty public settings)
	// under the default event limit of 256 KiB.
	defaults := settings.Settings{
		Route:   settings.Route{Enabled: true, Event: "app/route.requested", MaxBodyBytes: 256<<10 - 154 + 9},
		Public:  map[string]any{},
		Inngest: settings.Inngest{MaxEventBytes: 256 << 10},
	}
	tests := []struct {
		name string
		yaml string
		want settings.Settings
	}{
		{"empty file", "", defaults},
		{"only a comment", "# nothing here\n", defaults},
		{"empty route", "route: {}\n", defaults},
		{"everything", `
route:
  enabled: false
  event: "  shop/order.placed  "
  maxBodyBytes: 1024
public:
  appName: Example
  limits: {perDay: 10}
  tags: [a, b]
`, settings.Settings{
			Route:   settings.Route{Enabled: false, Event: "shop/order.placed", MaxBodyBytes: 1024},
			Inngest: settings.Inngest{MaxEventBytes: 256 << 10},
			Public: map[string]any{
				"appName": "Example",
				"limits":  map[string]any{"perDay": 10},
				"tags":    []any{"a", "b"},
			},
		}},
		// 3 MiB events (Inngest's largest): the largest body leaves room
		// for the envelope.
		{"largest body", "inngest: {maxEventBytes: 3145728}\nroute: {maxBodyBytes: 3145583}\n", settings.Settings{
			Route:   settings.Route{Enabled: true, Event: settings.DefaultEvent, MaxBodyBytes: 3<<20 - 154 + 9},
			Public:  map[string]any{},
			Inngest: settings.Inngest{MaxEventBytes: settings.MaxMaxEventBytes},
		}},
		{"largest event, default body", "inngest: {maxEventBytes: 3145728}\n", settings.Settings{
			Route:   settings.Route{Enabled: true, Event: settings.DefaultEvent, MaxBodyBytes: settings.DefaultMaxBodyBytes},
			Public:  map[string]any{},
			Inngest: settings.Inngest{MaxEventBytes: settings.MaxMaxEventBytes},
		}},
		{"hexadecimal and underscores are YAML integers", "inngest: {maxEventBytes: 0x40000}\nroute: {maxBodyBytes: 1_000}\n", settings.Settings{
			Route:   settings.Route{Enabled: true, Event: settings.DefaultEvent, MaxBodyBytes: 1000},
			Public:  map[string]any{},
			Inngest: settings.Inngest{MaxEventBytes: 256 << 10},
		}},
		{"an alias of an integer", "route: {maxBodyBytes: &n 1000, rateLimit: {requests: *n, per: 1m}}\n", settings.Settings{
			Route: settings.Route{Enabled: true, Event: settings.DefaultEvent, MaxBodyBytes: 1000,
				RateLimit: &settings.RateLimit{Requests: 1000, Per: time.Minute}},
			Public: map[string]any{}, Inngest: settings.Inngest{MaxEventBytes: 256 << 10},
		}},
		{"null is left out", "inngest: {maxEventBytes: ~}\nroute: {maxBodyBytes: null}\n", defaults},
		{"smallest body", "route: {maxBodyBytes: 1}\n", settings.Settings{
			Route:   settings.Route{Enabled: true, Event: settings.DefaultEvent, MaxBodyBytes: 1},
			Public:  map[string]any{},
			Inngest: settings.Inngest{MaxEventBytes: 256 << 10},
		}},
		{"event name of 255 characters", "route: {event: " + strings.Repeat("e", 255) + "}\n", settings.Settings{
			Route:   settings.Route{Enabled: true, Event: strings.Repeat("e", 255), MaxBodyBytes: 256<<10 - 154 - (255 - 19) + 9},
			Public:  map[string]any{},
			Inngest: settings.Inngest{MaxEventBytes: 256 << 10},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := settings.Parse([]byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Parse =\n%#v\nwant\n%#v", got, tc.want)
			}
		})
	}
}

func TestParseRateLimitAndAPITokens(t *testing.T) {
	s, err := settings.Parse([]byte(`
route:
  rateLimit: {requests: 100, per: 1m}
apiTokens:
  - id: svc-billing
    name: Billing
    sha256: d888437ae7defd1edf8501ce171480b52ddd4182bc83555b103bd3eab5ff8b4b
`))
	if err != nil {
		t.Fatal(err)
	}
	if rl := s.Route.RateLimit; rl == nil || rl.Requests != 100 || rl.Per != time.Minute {
		t.Errorf("RateLimit = %+v, want 100 per 1m", rl)
	}
	if len(s.APITokens) != 1 || s.APITokens[0].ID != "svc-billing" || s.APITokens[0].Name != "Billing" {
		t.Fatalf("APITokens = %+v", s.APITokens)
	}
	if id, err := apitoken.Lookup(s.APITokens, "rk_abc"); err != nil || id.ID != "svc-billing" {
		t.Errorf("Lookup(rk_abc) = %+v, %v", id, err)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"unknown top-level key", "rout: {}\n", "rout"},
		{"unknown route key", "route: {enable: false}\n", "enable"},
		{"reserved event name", "route: {event: inngest/function.finished}\n", "reserved"},
		{"empty event name", "route: {event: '  '}\n", "route.event"},
		{"event name too long", "route: {event: " + strings.Repeat("e", 256) + "}\n", "route.event"},
		{"maxBodyBytes zero", "route: {maxBodyBytes: 0}\n", "maxBodyBytes"},
		{"maxBodyBytes negative", "route: {maxBodyBytes: -1}\n", "maxBodyBytes"},
		{"maxBodyBytes above 3 MiB", "route: {maxBodyBytes: 3145729}\n", "maxBodyBytes"},
		// The example: a 3 MiB body cannot fit an event of 256 KiB,
		// nor one of 3 MiB with its envelope.
		{"maxBodyBytes 3 MiB, default events", "route: {maxBodyBytes: 3145728}\n", "route.maxBodyBytes: want 1 to 261999"},
		{"maxBodyBytes 3 MiB, 3 MiB events", "inngest: {maxEventBytes: 3145728}\nroute: {maxBodyBytes: 3145728}\n", "cannot fit an event of inngest.maxEventBytes (3145728)"},
		{"maxBodyBytes one above what fits", "route: {maxBodyBytes: 262000}\n", "want 1 to 261999"},
		{"maxEventBytes above 3 MiB", "inngest: {maxEventBytes: 3145729}\n", "inngest.maxEventBytes"},
		{"maxEventBytes zero", "inngest: {maxEventBytes: 0}\n", "inngest.maxEventBytes"},
		{"inngest unknown key", "inngest: {maxEvents: 2}\n", "maxEvents"},
		// The example: 400 KB of public settings through a YAML
		// anchor repeated nine times makes every event too large.
		{"public larger than any event", "public:\n  a: &big " + strings.Repeat("x", 44444) + "\n" +
			func() string {
				var b strings.Builder
				for i := range 9 {
					b.WriteString("  k" + string(rune('0'+i)) + ": *big\n")
				}
				return b.String()
			}(), "every event would be too large"},
		// {"a":"x…"} (8+n bytes) replaces {} in the envelope of 154 bytes:
		// n = 256 KiB - 160 leaves room for a body of 9 bytes, one too few
		// for {"data":0}.
		{"public just too large", "public: {a: " + strings.Repeat("x", 256<<10-160) + "}\n", "every event would be too large"},
		{"public integer beyond float64", "public: {limits: {max: 9007199254740993}}\n", `public at "/limits/max": The number 9007199254740993 would reach Inngest as 9007199254740992`},
		{"maxBodyBytes not a number", "route: {maxBodyBytes: lots}\n", "lots"},
		// yaml.v3 decodes a float into an int64 by dropping its fraction,
		// silently: 262144.9 would be 262144. Counts must be YAML integers,
		// and the error names the key.
		{"maxEventBytes with a fraction", "inngest: {maxEventBytes: 262144.9}\n", "inngest.maxEventBytes: want a whole number"},
		{"maxEventBytes float", "inngest: {maxEventBytes: 262144.0}\n", "inngest.maxEventBytes: want a whole number"},
		{"maxEventBytes string", "inngest: {maxEventBytes: '262144'}\n", "inngest.maxEventBytes: want a whole number"},
		{"maxEventBytes a list", "inngest: {maxEventBytes: [1]}\n", "inngest.maxEventBytes: want a whole number"},
		{"maxEventBytes beyond int64", "inngest: {maxEventBytes: 99999999999999999999}\n", "inngest.maxEventBytes: want a whole number"},
		{"maxBodyBytes with a fraction", "route: {maxBodyBytes: 1000.7}\n", "route.maxBodyBytes: want a whole number"},
		{"maxBodyBytes in exponent form", "route: {maxBodyBytes: 1e3}\n", "route.maxBodyBytes: want a whole number"},
		{"rateLimit requests with a fraction", "route: {rateLimit: {requests: 10.9, per: 1m}}\n", "route.rateLimit.requests: want a whole number"},
		{"enabled not a bool", "route: {enabled: maybe}\n", "maybe"},
		{"public with non-string keys", "public: {1: {2: x}}\n", "public"},
		// !!binary decodes to bytes that need not be UTF-8; json.Marshal
		// would send each invalid byte as U+FFFD, silently.
		{"public binary value not UTF-8", "public: {a: [x, !!binary gIGC]}\n", `public at "/a/1"`},
		{"public binary key not UTF-8", "public: {b: 1, !!binary gIGC: 1}\n", `public at "/\x80\x81\x82": a string that is not UTF-8`},
		{"not YAML", "route: [\n", "parse settings"},
		{"rateLimit requests zero", "route: {rateLimit: {requests: 0, per: 1m}}\n", "rateLimit.requests"},
		{"rateLimit per not a duration", "route: {rateLimit: {requests: 5, per: minute}}\n", "rateLimit.per"},
		{"rateLimit per too short", "route: {rateLimit: {requests: 5, per: 10ms}}\n", "rateLimit.per"},
		{"rateLimit unknown key", "route: {rateLimit: {requests: 5, per: 1m, burst: 2}}\n", "burst"},
		{"apiToken hash not hex", "apiTokens: [{id: a, sha256: nothex}]\n", "apiTokens[0].sha256"},
		{"apiToken without id", "apiTokens: [{sha256: d888437ae7defd1edf8501ce171480b52ddd4182bc83555b103bd3eab5ff8b4b}]\n", "apiTokens[0].id"},
		{"apiToken id twice", "apiTokens: [{id: a, sha256: d888437ae7defd1edf8501ce171480b52ddd4182bc83555b103bd3eab5ff8b4b}, {id: a, sha256: 0000000000000000000000000000000000000000000000000000000000000000}]\n", "twice"},
		{"apiToken hash twice", "apiTokens: [{id: a, sha256: d888437ae7defd1edf8501ce171480b52ddd4182bc83555b103bd3eab5ff8b4b}, {id: b, sha256: d888437ae7defd1edf8501ce171480b52ddd4182bc83555b103bd3eab5ff8b4b}]\n", "twice"},
		{"apiToken plain token instead of hash", "apiTokens: [{id: a, sha256: rk_abc}]\n", "64 hex"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := settings.Parse([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse(%.200q) = %.200v, %v; want an error mentioning %q", tc.yaml, s, err, tc.want)
			}
		})
	}
}

// write replaces path's content atomically, as an editor or a ConfigMap swap would.
// loadedStore writes content to a new settings file and loads it into a Store.
func loadedStore(t *testing.T, content string, log *slog.Logger) (*settings.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "settings.yaml")
	write(t, path, content)
	s := settings.NewStore(path, log)
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	return s, path
}

func write(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// recorder is a slog.Handler that keeps the messages it gets.
type recorder struct {
	mu   sync.Mutex
	msgs []string
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, rec.Message)
	return nil
}
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *recorder) WithGroup(string) slog.Handler      { return r }

func (r *recorder) count(prefix string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, m := range r.msgs {
		if strings.HasPrefix(m, prefix) {
			n++
		}
	}
	return n
}

func TestStoreReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "settings.yaml")
	log := &recorder{}
	s := settings.NewStore(path, slog.New(log))
	if s.Path() != path {
		t.Errorf("Path = %q, want %q", s.Path(), path)
	}
	if _, err := s.Current(); !errors.Is(err, settings.ErrUnavailable) {
		t.Fatalf("Current before any load: %v, want ErrUnavailable", err)
	}

	// Missing file: still unavailable, and the error says which file.
	if err := s.Reload(); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Reload of a missing file: %v; want an error naming %s", err, path)
	}
	if _, err := s.Current(); !errors.Is(err, settings.ErrUnavailable) {
		t.Fatalf("Current after a failed first load: %v, want ErrUnavailable", err)
	}

	write(t, path, "route: {event: shop/one}\n")
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if cur, err := s.Current(); err != nil || cur.Route.Event != "shop/one" {
		t.Fatalf("Current = %+v, %v; want event shop/one", cur, err)
	}

	// A broken file keeps the last good settings and says why, logged once per distinct error.
	write(t, path, "route: {event: inngest/x}\n")
	for range 3 {
		if err := s.Reload(); err == nil || !strings.Contains(err.Error(), "reserved") || !strings.Contains(err.Error(), path) {
			t.Fatalf("Reload of a broken file: %v; want the reason and the path", err)
		}
	}
	if cur, err := s.Current(); err != nil || cur.Route.Event != "shop/one" {
		t.Fatalf("Current after a broken reload = %+v, %v; want the last good (shop/one)", cur, err)
	}
	if n := log.count("settings reload failed"); n != 1 {
		t.Errorf("logged %d reload failures for one repeated error, want 1", n)
	}

	write(t, path, "route: {event: shop/two, enabled: false}\n")
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if cur, _ := s.Current(); cur.Route.Event != "shop/two" || cur.Route.Enabled {
		t.Fatalf("Current = %+v; want event shop/two, disabled", cur)
	}
}

// Current hands out copies: a caller changing its copy changes nothing else.
func TestStoreCurrentIsACopy(t *testing.T) {
	s, _ := loadedStore(t, "route: {event: shop/one}\n", nil)
	a, _ := s.Current()
	a.Route.Event = "changed"
	if b, _ := s.Current(); b.Route.Event != "shop/one" {
		t.Fatalf("Current after changing a copy: event %q", b.Route.Event)
	}
}

// waitFor polls cond until it holds or a deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func watch(t *testing.T, s *settings.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Watch(ctx, 10*time.Millisecond)
	}()
	t.Cleanup(func() {
		cancel()
		<-done // Watch returns when its context ends
	})
}

func event(s *settings.Store) string {
	cur, err := s.Current()
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return cur.Route.Event
}

func TestStoreWatch(t *testing.T) {
	log := &recorder{}
	s, path := loadedStore(t, "route: {event: shop/one}\n", slog.New(log))
	watch(t, s)

	write(t, path, "route: {event: shop/two}\n")
	waitFor(t, "the watcher to load shop/two", func() bool { return event(s) == "shop/two" })

	// Removing the file keeps the last good settings; a new file is picked up.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the watcher to notice the missing file", func() bool { return log.count("settings reload failed") == 1 })
	if ev := event(s); ev != "shop/two" {
		t.Fatalf("after the file was removed: event %q, want the last good shop/two", ev)
	}
	write(t, path, "route: {event: shop/three}\n")
	waitFor(t, "the watcher to load shop/three", func() bool { return event(s) == "shop/three" })
}

func TestStoreWatchBrokenThenFixed(t *testing.T) {
	log := &recorder{}
	s, path := loadedStore(t, "route: {event: shop/one}\n", slog.New(log))
	watch(t, s)
	write(t, path, "route: {maxBodyBytes: 0}\n")
	waitFor(t, "the watcher to try the broken file", func() bool { return log.count("settings reload failed") == 1 })
	if ev := event(s); ev != "shop/one" {
		t.Fatalf("after a broken file: event %q, want the last good shop/one", ev)
	}
	write(t, path, "route: {event: shop/fixed}\n")
	waitFor(t, "the fixed file", func() bool { return event(s) == "shop/fixed" })
	if n := log.count("settings reload failed"); n != 1 {
		t.Errorf("logged %d failures for one broken version of the file, want 1", n)
	}
}

func TestStoreWatchMissingFileThenCreated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "settings.yaml")
	log := &recorder{}
	s := settings.NewStore(path, slog.New(log))
	watch(t, s)
	// The watcher tries the missing file (and logs it once, not every poll).
	waitFor(t, "the watcher to report the missing file", func() bool { return log.count("settings unavailable") > 0 })
	if _, err := s.Current(); !errors.Is(err, settings.ErrUnavailable) {
		t.Fatalf("Current without a file: %v, want ErrUnavailable", err)
	}
	write(t, path, "route: {event: shop/late}\n")
	waitFor(t, "the watcher to load the new file", func() bool { return event(s) == "shop/late" })
	if n := log.count("settings unavailable"); n != 1 {
		t.Errorf("logged the missing file %d times, want once", n)
	}
}

// Current is read on every request while reloads happen.
func TestStoreConcurrentReads(t *testing.T) {
	s, path := loadedStore(t, "route: {event: shop/a}\n", nil)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				if ev := event(s); ev != "shop/a" && ev != "shop/b" {
					t.Errorf("Current event %q", ev)
					return
				}
			}
		})
	}
	for i := range 50 {
		write(t, path, map[bool]string{true: "route: {event: shop/a}\n", false: "route: {event: shop/b}\n"}[i%2 == 0])
		_ = s.Reload()
	}
	wg.Wait()
}
