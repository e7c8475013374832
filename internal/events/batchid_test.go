package events_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/events"
)

func TestBatchEventIDPinned(t *testing.T) {
	end := time.Date(2001, 2, 4, 4, 5, 6, 789_000, time.UTC)
	// The ids must stay the same across versions and restarts, or a batch
	// retried across a deploy would be published twice. Computed with
	// Python's hashlib: the first 16 bytes of SHA-256 over the uint64-BE-
	// length-prefixed parts "routeapi batch event id v1", kind, id, key,
	// window end in Unix microseconds ("" for none), index.
	for _, tc := range []struct {
		end   time.Time
		index int
		want  string
	}{
		{end, 0, "e0abf92bbaa30a1224d1d4279ee9050b"},
		{time.Time{}, 3, "9146b4ee2378f71079b2e171f561dc70"},
	} {
		got := events.BatchEventID(events.KindUser, "user_42", "key-1", tc.end, tc.index)
		if got != tc.want {
			t.Errorf("BatchEventID(user, user_42, key-1, %v, %d) = %s, want %s", tc.end, tc.index, got, tc.want)
		}
		if !hex32.MatchString(got) {
			t.Errorf("BatchEventID = %q, want 32 lower-case hex characters", got)
		}
	}
}

func TestBatchEventIDStable(t *testing.T) {
	end := time.Date(2026, 12, 1, 3, 0, 0, 123_456_000, time.UTC)
	for _, w := range []time.Time{end, {}} {
		for i := range 100 {
			a := events.BatchEventID(events.KindAPIToken, "svc", "k", w, i)
			if b := events.BatchEventID(events.KindAPIToken, "svc", "k", w, i); a != b {
				t.Fatalf("index %d, window %v: %s then %s", i, w, a, b)
			}
		}
	}
	// The same window read back from a store (bolt keeps nanoseconds,
	// PostgreSQL microseconds) in another zone gives the same ids.
	a := events.BatchEventID(events.KindUser, "u", "k", end, 7)
	if b := events.BatchEventID(events.KindUser, "u", "k", end.Add(999*time.Nanosecond).In(time.FixedZone("x", 3600)), 7); a != b {
		t.Errorf("the window's nanoseconds or zone changed the id: %s, %s", a, b)
	}
}

// TestBatchEventIDDistinct is a property test over a corpus built to find
// collisions: parts whose concatenations meet, empty parts, kinds that spell
// another tag's tail, windows a microsecond apart, the zero window and the
// epoch. Every distinct input has its own batch id, and no batch id is a
// route event's id (EventID or KeyedEventID) for any inputs of the corpus,
// the same ones included.
func TestBatchEventIDDistinct(t *testing.T) {
	end := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	kinds := []string{events.KindUser, events.KindAPIToken, "", "user ", "batch", "keyed"}
	ids := []string{"user_42", "user_4", "2", "", "apitoken:svc", "0", "1"}
	keys := []string{"key-1", "2key-1", "", "k", "1", "0"}
	windows := []time.Time{{}, end, end.Add(time.Microsecond), time.UnixMicro(0), time.UnixMicro(1), time.UnixMicro(10)}
	indexes := []int{0, 1, 2, 10, 11, 99, 100}

	type input struct {
		kind, id, key string
		window        int64 // Unix µs, or -1 for none
		index         int
	}
	batch := map[string]input{}
	route := map[string]string{}
	for _, kind := range kinds {
		for _, id := range ids {
			for _, key := range keys {
				if key != "" {
					route[events.EventID(kind, id, key)] = fmt.Sprintf("EventID(%q, %q, %q)", kind, id, key)
				}
				for wi, w := range windows {
					if wi > 0 {
						route[events.KeyedEventID(kind, id, key, w)] = fmt.Sprintf("KeyedEventID(%q, %q, %q, %v)", kind, id, key, w)
					}
					for _, index := range indexes {
						in := input{kind, id, key, -1, index}
						if !w.IsZero() {
							in.window = w.UnixMicro()
						}
						got := events.BatchEventID(kind, id, key, w, index)
						if prev, ok := batch[got]; ok {
							t.Fatalf("%+v and %+v have the same batch id %s", prev, in, got)
						}
						batch[got] = in
					}
				}
			}
		}
	}
	want := len(kinds) * len(ids) * len(keys) * len(windows) * len(indexes)
	if len(batch) != want {
		t.Fatalf("%d batch ids for %d inputs", len(batch), want)
	}
	for id, in := range batch {
		if r, ok := route[id]; ok {
			t.Errorf("BatchEventID%+v = %s = %s", in, id, r)
		}
	}
	// The corpus holds route ids too (the property can fail).
	if len(route) < 1000 {
		t.Fatalf("only %d route ids in the corpus", len(route))
	}
}
