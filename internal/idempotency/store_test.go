package idempotency_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/routeapi/routeapi/internal/diskspace"
	"github.com/routeapi/routeapi/internal/idempotency"
	"github.com/routeapi/routeapi/internal/spool"
	"github.com/routeapi/routeapi/internal/testkit/fakedisk"
	"github.com/routeapi/routeapi/internal/testkit/pgtest"
)

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

const lease = 30 * time.Second

func key(p, id, k string) idempotency.Digest {
	return idempotency.Key{Principal: idempotency.Principal{Kind: p, ID: id}, Key: k}.Digest()
}

func fp(t *testing.T, data string) idempotency.Fingerprint {
	t.Helper()
	f, err := idempotency.FingerprintOf(json.RawMessage(data))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func begin(t *testing.T, s idempotency.Store, k idempotency.Digest, f idempotency.Fingerprint, now time.Time) idempotency.Result {
	t.Helper()
	res, err := s.Begin(context.Background(), k, f, now, lease)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func want(t *testing.T, res idempotency.Result, o idempotency.Outcome, what string) {
	t.Helper()
	if res.Outcome != o {
		t.Fatalf("%s: outcome %s, want %s", what, res.Outcome, o)
	}
}

// exercise runs the same checks against any Store; open returns a store
// over the same storage each time it is called (a restart).
func exercise(t *testing.T, open func() idempotency.Store) {
	ctx := context.Background()
	s := open()
	k := key("user", "u1", "order-1")
	a, b := fp(t, `{"amount":10}`), fp(t, `{"amount":99999}`)

	res := begin(t, s, k, a, t0)
	want(t, res, idempotency.Proceed, "first request")
	if !res.ExpiresAt.Equal(t0.Add(idempotency.Window)) {
		t.Fatalf("expires at %v, want %v", res.ExpiresAt, t0.Add(idempotency.Window))
	}
	res = begin(t, s, k, a, t0.Add(time.Second))
	want(t, res, idempotency.Busy, "same payload while in flight")
	if res.LeaseLeft != lease-time.Second {
		t.Fatalf("lease left %v, want %v", res.LeaseLeft, lease-time.Second)
	}
	want(t, begin(t, s, k, b, t0.Add(time.Second)), idempotency.Mismatch, "other payload while in flight")

	answer := idempotency.Answer{Status: 200, EventID: "ev-1", IDs: []string{"01ABC"}}
	if err := s.Complete(ctx, k, a, answer); err != nil {
		t.Fatal(err)
	}
	s = open() // a restart keeps everything
	res = begin(t, s, k, a, t0.Add(time.Hour))
	want(t, res, idempotency.Replay, "same payload after the answer")
	if res.Answer.Status != 200 || res.Answer.EventID != "ev-1" || len(res.Answer.IDs) != 1 || res.Answer.IDs[0] != "01ABC" {
		t.Fatalf("replayed %+v, want %+v", res.Answer, answer)
	}
	want(t, begin(t, s, k, b, t0.Add(time.Hour)), idempotency.Mismatch, "other payload after the answer")

	// The same key sent to POST /api/events is another key; its answer keeps
	// the batch's event ids in order, across a restart.
	kb := idempotency.Key{Principal: idempotency.Principal{Kind: "user", ID: "u1"}, Key: "order-1", Operation: idempotency.OperationSendEvents}.Digest()
	want(t, begin(t, s, kb, b, t0.Add(time.Hour)), idempotency.Proceed, "the route's key sent to sendEvents")
	batch := idempotency.Answer{Status: 202, EventIDs: []string{"ev-b0", "ev-b1", "ev-b2"}, IDs: []string{}}
	if err := s.Complete(ctx, kb, b, batch); err != nil {
		t.Fatal(err)
	}
	s = open()
	res = begin(t, s, kb, b, t0.Add(2*time.Hour))
	want(t, res, idempotency.Replay, "the batch after its answer")
	if !reflect.DeepEqual(res.Answer, batch) {
		t.Fatalf("replayed batch %+v, want %+v", res.Answer, batch)
	}
	res = begin(t, s, k, a, t0.Add(2*time.Hour))
	want(t, res, idempotency.Replay, "the route's key, after the batch's")
	if res.Answer.EventIDs != nil || res.Answer.EventID != "ev-1" {
		t.Fatalf("the route's answer %+v changed by the batch's", res.Answer)
	}
	// White space does not change the event, member order does.
	want(t, begin(t, s, k, fp(t, " { \"amount\" : 10 }\n"), t0.Add(time.Hour)), idempotency.Replay, "same data, other white space")

	// Principals are disjoint: the same key string elsewhere is another key,
	// even for a user whose id spells a token's namespace.
	for _, other := range []idempotency.Digest{key("user", "u2", "order-1"), key("apitoken", "u1", "order-1"), key("user", "apitoken:u1", "order-1")} {
		want(t, begin(t, s, other, b, t0.Add(time.Hour)), idempotency.Proceed, "another principal's key")
	}

	// The window ends: the key is new again, and cleanup removes it.
	end := t0.Add(idempotency.Window)
	want(t, begin(t, s, k, a, end.Add(-time.Nanosecond)), idempotency.Replay, "just inside the window")
	n, err := s.Cleanup(ctx, end.Add(-time.Microsecond), 100)
	if err != nil || n != 0 {
		t.Fatalf("cleanup before the end: %d, %v; want 0", n, err)
	}
	n, err = s.Cleanup(ctx, end, 100)
	if err != nil || n != 1 {
		t.Fatalf("cleanup at the end: %d, %v; want 1 (the three others expire an hour later)", n, err)
	}
	want(t, begin(t, s, k, b, end), idempotency.Proceed, "after the window, with another payload")

	// A failed request releases its key: the same payload may try again,
	// another may not (the failed one may have reached Inngest).
	k2 := key("apitoken", "svc", "retry-me")
	want(t, begin(t, s, k2, a, t0), idempotency.Proceed, "first")
	if err := s.Release(ctx, k2, a); err != nil {
		t.Fatal(err)
	}
	want(t, begin(t, s, k2, b, t0.Add(time.Second)), idempotency.Mismatch, "other payload after a release")
	want(t, begin(t, s, k2, a, t0.Add(time.Second)), idempotency.Proceed, "same payload after a release")

	// A request that died holding a key frees it when its lease ends.
	k3 := key("user", "u1", "crash")
	want(t, begin(t, s, k3, a, t0), idempotency.Proceed, "first")
	s = open() // the process died
	want(t, begin(t, s, k3, a, t0.Add(lease-time.Microsecond)), idempotency.Busy, "before the lease ends")
	want(t, begin(t, s, k3, b, t0.Add(lease)), idempotency.Mismatch, "other payload after the lease")
	want(t, begin(t, s, k3, a, t0.Add(lease)), idempotency.Proceed, "same payload after the lease")

	// Complete and Release of a key not held with that fingerprint.
	if err := s.Complete(ctx, key("user", "nobody", "x"), a, answer); !errors.Is(err, idempotency.ErrNotHeld) {
		t.Fatalf("complete of an unknown key: %v, want ErrNotHeld", err)
	}
	if err := s.Release(ctx, k3, b); !errors.Is(err, idempotency.ErrNotHeld) {
		t.Fatalf("release with another fingerprint: %v, want ErrNotHeld", err)
	}

	// Cleanup is bounded per call.
	for i := range 5 {
		want(t, begin(t, s, key("user", "bulk", fmt.Sprint(i)), a, t0), idempotency.Proceed, "bulk")
	}
	total := 0
	for range 10 {
		n, err := s.Cleanup(ctx, t0.Add(3*idempotency.Window), 2)
		if err != nil || n > 2 {
			t.Fatalf("bounded cleanup: %d, %v", n, err)
		}
		if n == 0 {
			break
		}
		total += n
	}
	if total < 5 {
		t.Fatalf("cleanup removed %d, want at least the 5 bulk keys", total)
	}
}

// concurrent: many requests with one key at once; exactly one proceeds, the
// rest are told it is in flight.
func concurrent(t *testing.T, s idempotency.Store) {
	k, f := key("user", "u1", "concurrent"), fp(t, `"same"`)
	const n = 16
	outcomes := make(chan idempotency.Outcome, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			res, err := s.Begin(context.Background(), k, f, t0, lease)
			if err != nil {
				t.Error(err)
				return
			}
			outcomes <- res.Outcome
		})
	}
	wg.Wait()
	close(outcomes)
	counts := map[idempotency.Outcome]int{}
	for o := range outcomes {
		counts[o]++
	}
	if counts[idempotency.Proceed] != 1 || counts[idempotency.Busy] != n-1 {
		t.Fatalf("outcomes %v, want 1 proceed and %d in-flight", counts, n-1)
	}
}

func openBolt(t *testing.T, dir string, opts ...spool.BoltOption) (*spool.Bolt, *idempotency.Bolt) {
	t.Helper()
	sp, err := spool.OpenBolt(dir, 0, time.Second, opts...)
	if err != nil {
		t.Fatal(err)
	}
	st, err := idempotency.NewBolt(sp.DB(), sp.Reserve())
	if err != nil {
		t.Fatal(err)
	}
	return sp, st
}

// openPostgres opens a PostgreSQL spool at url and the idempotency store
// beside it, closed when t ends.
func openPostgres(t *testing.T, url string) (*spool.Postgres, *idempotency.Postgres) {
	t.Helper()
	ctx := context.Background()
	sp, err := spool.OpenPostgres(ctx, url, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sp.Close() })
	st, err := idempotency.NewPostgres(ctx, sp.Pool(), sp.Schema())
	if err != nil {
		t.Fatal(err)
	}
	return sp, st
}

func TestBolt(t *testing.T) {
	dir := t.TempDir()
	var cur *spool.Bolt
	t.Cleanup(func() { _ = cur.Close() })
	exercise(t, func() idempotency.Store {
		if cur != nil {
			if err := cur.Close(); err != nil {
				t.Fatal(err)
			}
		}
		var st *idempotency.Bolt
		cur, st = openBolt(t, dir)
		return st
	})
	_, st := openBolt(t, t.TempDir())
	concurrent(t, st)
}

// A reservation is a write: refused below the disk reserve, while replays,
// refusals, completions and cleanup still work.
func TestBoltDiskReserve(t *testing.T) {
	disk := fakedisk.New(1 << 30)
	sp, st := openBolt(t, t.TempDir(), spool.WithMinFree(1<<20), spool.WithFreeSpace(disk.Free))
	t.Cleanup(func() { _ = sp.Close() })
	ctx := context.Background()
	k, a := key("user", "u", "k"), fp(t, `1`)
	want(t, begin(t, st, k, a, t0), idempotency.Proceed, "with room")
	disk.Set(1 << 20) // exactly the reserve: nothing more fits
	if _, err := st.Begin(ctx, key("user", "u", "new"), a, t0, lease); !errors.Is(err, diskspace.ErrLow) {
		t.Fatalf("new key below the reserve: %v, want ErrLow", err)
	}
	if err := sp.Put(ctx, []spool.Record{{EventID: "e", Event: json.RawMessage(`{}`), EnqueuedAt: t0, NextAt: t0}}); !errors.Is(err, diskspace.ErrLow) {
		t.Fatalf("spool put below the reserve: %v, want ErrLow", err)
	}
	want(t, begin(t, st, k, a, t0.Add(time.Second)), idempotency.Busy, "lookup below the reserve")
	if err := st.Complete(ctx, k, a, idempotency.Answer{Status: 202, EventID: "e", IDs: []string{}}); err != nil {
		t.Fatalf("complete below the reserve: %v", err)
	}
	want(t, begin(t, st, k, a, t0.Add(time.Second)), idempotency.Replay, "replay below the reserve")
	if _, err := st.Cleanup(ctx, t0.Add(2*idempotency.Window), 10); err != nil {
		t.Fatalf("cleanup below the reserve: %v", err)
	}
	stats, err := sp.Stats(ctx)
	if err != nil || !stats.Disk.Low || stats.Disk.Free != 1<<20 || stats.Disk.Min != 1<<20 {
		t.Fatalf("stats %+v, %v: want the disk low", stats.Disk, err)
	}
}

func TestPostgres(t *testing.T) {
	srv := pgtest.Start(t)
	ctx := context.Background()
	var pools []*pgxpool.Pool
	t.Cleanup(func() {
		for _, p := range pools {
			p.Close()
		}
	})
	open := func() *idempotency.Postgres {
		sp, err := spool.OpenPostgres(ctx, srv.URL, 0)
		if err != nil {
			t.Fatal(err)
		}
		pools = append(pools, sp.Pool())
		st, err := idempotency.NewPostgres(ctx, sp.Pool(), sp.Schema())
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	exercise(t, func() idempotency.Store { return open() })
	concurrent(t, open())

	// Two replicas: a key used on one is seen on the other.
	a, b := open(), open()
	k := key("user", "u1", "replicas")
	want(t, begin(t, a, k, fp(t, `1`), t0), idempotency.Proceed, "replica A")
	want(t, begin(t, b, k, fp(t, `2`), t0), idempotency.Mismatch, "replica B, other payload")
	want(t, begin(t, b, k, fp(t, `1`), t0), idempotency.Busy, "replica B, same payload")
}

// TestPostgresSchemaWithoutSearchPath: with a Prisma URL's schema behind
// PgBouncer (transaction mode keeps no search_path), the keys are still in
// the URL's schema, by their qualified name: a key stored through one
// connection is found through another whose search_path is the default.
func TestPostgresSchemaWithoutSearchPath(t *testing.T) {
	srv := pgtest.Start(t)
	ctx := context.Background()
	admin := pgtest.Connect(t, srv.URL)
	if _, err := admin.Exec(ctx, `CREATE SCHEMA "my.app"`); err != nil {
		t.Fatal(err)
	}
	open := func() *idempotency.Postgres {
		sp, err := spool.OpenPostgres(ctx, srv.URL+"&schema=my.app&pgbouncer=true&connection_limit=1", 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = sp.Close() })
		// The one connection, as PgBouncer may hand it: default search_path.
		if _, err := sp.Pool().Exec(ctx, `SET search_path = public`); err != nil {
			t.Fatal(err)
		}
		st, err := idempotency.NewPostgres(ctx, sp.Pool(), sp.Schema())
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	exercise(t, func() idempotency.Store { return open() })
	var inSchema bool
	if err := admin.QueryRow(ctx, `SELECT to_regclass('"my.app".routeapi_idempotency') IS NOT NULL AND to_regclass('public.routeapi_idempotency') IS NULL`).Scan(&inSchema); err != nil || !inSchema {
		t.Fatalf("the keys table is not (only) in the URL's schema: %v", err)
	}
}
