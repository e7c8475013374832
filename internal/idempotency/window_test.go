package idempotency_test

import (
	"context"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/idempotency"
	"github.com/routeapi/routeapi/internal/testkit/pgtest"
)

// sameWindow: a request that takes over a key (its first request died, its
// lease ended) or proceeds after a Release gets the same ExpiresAt, to the
// microsecond events.BatchEventID reads, as the first request got: the
// batch's event ids derive from it, so a different window end would publish
// the batch again under new ids that Inngest does not deduplicate. The
// clock has nanoseconds (time.Now does), including a half microsecond that
// a store rounding instead of truncating would move.
func sameWindow(t *testing.T, s idempotency.Store) {
	t.Helper()
	ctx := context.Background()
	for i, ns := range []int{0, 1, 499, 500, 501, 999, 123456789, 999999999} {
		now := t0.Add(time.Duration(ns))
		k := key("user", "u1", "window-"+string(rune('a'+i)))
		f := fp(t, `[1]`)
		first := begin(t, s, k, f, now)
		want(t, first, idempotency.Proceed, "first request")
		taken := begin(t, s, k, f, now.Add(lease+time.Second))
		want(t, taken, idempotency.Proceed, "takeover after the lease")
		if first.ExpiresAt.UnixMicro() != taken.ExpiresAt.UnixMicro() {
			t.Errorf("now +%dns: takeover's window ends %s, the first request's %s", ns,
				taken.ExpiresAt.Format(time.RFC3339Nano), first.ExpiresAt.Format(time.RFC3339Nano))
		}
		if err := s.Release(ctx, k, f); err != nil {
			t.Fatal(err)
		}
		again := begin(t, s, k, f, now.Add(lease+2*time.Second))
		want(t, again, idempotency.Proceed, "retry after a release")
		if first.ExpiresAt.UnixMicro() != again.ExpiresAt.UnixMicro() {
			t.Errorf("now +%dns: retry's window ends %s, the first request's %s", ns,
				again.ExpiresAt.Format(time.RFC3339Nano), first.ExpiresAt.Format(time.RFC3339Nano))
		}
	}
}

func TestWindowEndKeptBolt(t *testing.T) {
	sp, st := openBolt(t, t.TempDir())
	t.Cleanup(func() { _ = sp.Close() })
	sameWindow(t, st)
}

func TestWindowEndKeptPostgres(t *testing.T) {
	_, st := openPostgres(t, pgtest.Start(t).URL)
	sameWindow(t, st)
}

// recordedRule: Recorded answers only a completed key with the same
// payload inside its window, and writes nothing (a key looked up stays
// free for a first request).
func recordedRule(t *testing.T, s idempotency.Store) {
	t.Helper()
	ctx := context.Background()
	k, a, b := key("user", "u1", "recorded"), fp(t, `[1]`), fp(t, `[2]`)
	look := func(f idempotency.Fingerprint, now time.Time) bool {
		t.Helper()
		_, ok, err := s.Recorded(ctx, k, f, now)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if look(a, t0) {
		t.Fatal("a key never used has an answer")
	}
	want(t, begin(t, s, k, a, t0), idempotency.Proceed, "first request after a lookup")
	if look(a, t0) {
		t.Fatal("a key in flight has an answer")
	}
	ans := idempotency.Answer{Status: 200, EventIDs: []string{"e0", "e1"}, IDs: []string{"01A", "01B"}}
	if err := s.Complete(ctx, k, a, ans); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Recorded(ctx, k, a, t0.Add(time.Hour))
	if err != nil || !ok || got.Status != 200 || len(got.EventIDs) != 2 || got.EventIDs[1] != "e1" {
		t.Fatalf("recorded: %+v %v %v", got, ok, err)
	}
	if look(b, t0.Add(time.Hour)) {
		t.Error("another payload has the answer")
	}
	if look(a, t0.Add(idempotency.Window)) {
		t.Error("an answer after the window ended")
	}
}

func TestRecordedBolt(t *testing.T) {
	sp, st := openBolt(t, t.TempDir())
	t.Cleanup(func() { _ = sp.Close() })
	recordedRule(t, st)
}

func TestRecordedPostgres(t *testing.T) {
	_, st := openPostgres(t, pgtest.Start(t).URL)
	recordedRule(t, st)
}
