package spool_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/spool"
	"github.com/routeapi/routeapi/internal/testkit/pgtest"
)

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func rec(i int) spool.Record {
	return spool.Record{
		EventID: fmt.Sprintf("ev-%d", i), Event: json.RawMessage(fmt.Sprintf(`{"id":"ev-%d","n":12345678901234567890}`, i)),
		EnqueuedAt: t0.Add(time.Duration(i) * time.Millisecond), NextAt: t0,
	}
}

// exercise runs the same checks against any Spool; open returns a spool
// holding at most max events over the same storage each time it is called.
func exercise(t *testing.T, open func(max int) spool.Spool) {
	ctx := context.Background()
	s := open(3)
	if err := s.Put(ctx, []spool.Record{rec(1), rec(2)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, []spool.Record{rec(3), rec(4)}); !errors.Is(err, spool.ErrFull) {
		t.Fatalf("Put past the limit: %v, want ErrFull", err)
	}
	if err := s.Put(ctx, []spool.Record{rec(3)}); err != nil {
		t.Fatal(err)
	}
	st, err := s.Stats(ctx)
	if err != nil || st.Depth != 3 || !st.Oldest.Equal(rec(1).EnqueuedAt) || st.Dead != 0 {
		t.Fatalf("Stats = %+v, %v", st, err)
	}

	// Claim leases: a second claim before the lease ends gets nothing.
	got, err := s.Claim(ctx, t0, 2, time.Minute)
	if err != nil || len(got) != 2 || got[0].EventID != "ev-1" || string(got[0].Event) != string(rec(1).Event) {
		t.Fatalf("Claim = %+v, %v", got, err)
	}
	rest, _ := s.Claim(ctx, t0, 10, time.Minute)
	if len(rest) != 1 || rest[0].EventID != "ev-3" {
		t.Fatalf("second Claim = %+v", rest)
	}
	if again, _ := s.Claim(ctx, t0.Add(time.Second), 10, time.Minute); len(again) != 0 {
		t.Fatalf("leased records claimed again: %+v", again)
	}

	// Ack one, retry one later, bury one.
	if err := s.Ack(ctx, []uint64{got[0].Seq}); err != nil {
		t.Fatal(err)
	}
	r := got[1]
	r.Attempts, r.NextAt, r.LastError = 1, t0.Add(5*time.Minute), "boom"
	if err := s.Retry(ctx, []spool.Record{r}); err != nil {
		t.Fatal(err)
	}
	if err := s.Bury(ctx, rest, "400 bad"); err != nil {
		t.Fatal(err)
	}
	if due, _ := s.Claim(ctx, t0.Add(2*time.Minute), 10, time.Minute); len(due) != 0 {
		t.Fatalf("a retry came due early: %+v", due)
	}
	due, _ := s.Claim(ctx, t0.Add(6*time.Minute), 10, time.Minute)
	if len(due) != 1 || due[0].EventID != "ev-2" || due[0].Attempts != 1 || due[0].LastError != "boom" {
		t.Fatalf("retried record = %+v", due)
	}
	st, _ = s.Stats(ctx)
	if st.Depth != 1 || st.Dead != 1 {
		t.Fatalf("Stats = %+v, want depth 1, dead 1", st)
	}
	dead, err := s.DeadLetters(ctx, 10)
	if err != nil || len(dead) != 1 || dead[0].EventID != "ev-3" || dead[0].LastError != "400 bad" {
		t.Fatalf("DeadLetters = %+v, %v", dead, err)
	}
	// Never spooled, buried at once (the live path's 4xx).
	if err := s.Bury(ctx, []spool.Record{rec(9)}, "401"); err != nil {
		t.Fatal(err)
	}

	// Everything survives a reopen.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(3)
	defer s.Close()
	st, _ = s.Stats(ctx)
	if st.Depth != 1 || st.Dead != 2 {
		t.Fatalf("after reopen Stats = %+v", st)
	}
	n, err := s.Replay(ctx, t0.Add(7*time.Minute))
	if err != nil || n != 2 {
		t.Fatalf("Replay = %d, %v", n, err)
	}
	back, _ := s.Claim(ctx, t0.Add(7*time.Minute), 10, time.Minute)
	ids := map[string]bool{}
	for _, r := range back {
		ids[r.EventID] = true
		if r.EventID != "ev-2" && r.Attempts != 0 {
			t.Errorf("replayed %s has %d attempts", r.EventID, r.Attempts)
		}
	}
	if !ids["ev-3"] || !ids["ev-9"] {
		t.Fatalf("after Replay claimed %+v", back)
	}
	st, _ = s.Stats(ctx)
	if st.Depth != 3 || st.Dead != 0 {
		t.Fatalf("after Replay Stats = %+v", st)
	}
}

func TestBolt(t *testing.T) {
	dir := t.TempDir()
	exercise(t, func(max int) spool.Spool {
		s, err := spool.OpenBolt(dir, max, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestBoltLockedByAnotherOpen(t *testing.T) {
	dir := t.TempDir()
	s, err := spool.OpenBolt(dir, 0, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := spool.OpenBolt(dir, 0, 50*time.Millisecond); !errors.Is(err, spool.ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
}

func TestPostgres(t *testing.T) {
	pg := pgtest.Start(t)
	exercise(t, func(max int) spool.Spool {
		s, err := spool.OpenPostgres(context.Background(), pg.URL, max)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// The PostgreSQL spool on a Prisma app's DATABASE_URL: Prisma's parameters
// are read as Prisma reads them, and the table goes in the URL's schema.
func TestPostgresPrismaURL(t *testing.T) {
	pg := pgtest.Start(t)
	ctx := context.Background()
	admin := pgtest.Connect(t, pg.URL)
	if _, err := admin.Exec(ctx, `CREATE SCHEMA app; CREATE SCHEMA "App2"; CREATE SCHEMA "my.app"`); err != nil {
		t.Fatal(err)
	}
	for _, params := range []string{"&schema=app&connection_limit=4&pool_timeout=10", "&schema=App2&pgbouncer=true", "&schema=my%2Eapp"} {
		t.Run(params, func(t *testing.T) {
			exercise(t, func(max int) spool.Spool {
				s, err := spool.OpenPostgres(ctx, pg.URL+params, max)
				if err != nil {
					t.Fatal(err)
				}
				return s
			})
		})
	}
	var inSchema bool
	if err := admin.QueryRow(ctx, `SELECT to_regclass('app.routeapi_spool') IS NOT NULL AND to_regclass('"App2".routeapi_spool') IS NOT NULL AND to_regclass('"my.app".routeapi_spool') IS NOT NULL AND to_regclass('public.routeapi_spool') IS NULL`).Scan(&inSchema); err != nil || !inSchema {
		t.Fatalf("the spool table is not (only) in the URL's schema: %v", err)
	}
	if _, err := spool.OpenPostgres(ctx, pg.URL+"&sslidentity=client.p12", 0); err == nil || !strings.Contains(err.Error(), "sslidentity") {
		t.Errorf("sslidentity: %v, want a refusal naming it", err)
	}
}

// TestPostgresSchemaWithoutSearchPath: PgBouncer in transaction mode (the
// reason for Prisma's pgbouncer=true) does not keep a connection's
// search_path: the SET made after connecting lands on one server connection,
// and the next statement may run on another. The spool and the idempotency
// keys must then still be in the URL's schema, by their qualified names; a
// table found through whatever search_path a connection has could be
// another one (events split across two tables, a retried key not seen).
func TestPostgresSchemaWithoutSearchPath(t *testing.T) {
	pg := pgtest.Start(t)
	ctx := context.Background()
	admin := pgtest.Connect(t, pg.URL)
	if _, err := admin.Exec(ctx, `CREATE SCHEMA "my.app"`); err != nil {
		t.Fatal(err)
	}
	exercise(t, func(max int) spool.Spool {
		s, err := spool.OpenPostgres(ctx, pg.URL+"&schema=my.app&pgbouncer=true&connection_limit=1", max)
		if err != nil {
			t.Fatal(err)
		}
		// The one connection, as PgBouncer may hand it: default search_path.
		if _, err := s.Pool().Exec(ctx, `SET search_path = public`); err != nil {
			t.Fatal(err)
		}
		if s.Schema() != "my.app" {
			t.Fatalf("Schema() = %q", s.Schema())
		}
		return s
	})
	var inSchema bool
	if err := admin.QueryRow(ctx, `SELECT to_regclass('"my.app".routeapi_spool') IS NOT NULL AND to_regclass('public.routeapi_spool') IS NULL`).Scan(&inSchema); err != nil || !inSchema {
		t.Fatalf("the spool table is not (only) in the URL's schema: %v", err)
	}
}

// Two spools on one database never claim the same record.
func TestPostgresClaimsAreExclusive(t *testing.T) {
	pg := pgtest.Start(t)
	ctx := context.Background()
	a, err := spool.OpenPostgres(ctx, pg.URL, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := spool.OpenPostgres(ctx, pg.URL, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var recs []spool.Record
	for i := range 50 {
		recs = append(recs, rec(i))
	}
	if err := a.Put(ctx, recs); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	done := make(chan []spool.Record, 2)
	for _, s := range []spool.Spool{a, b} {
		go func() {
			var mine []spool.Record
			for {
				got, err := s.Claim(ctx, t0, 7, time.Minute)
				if err != nil || len(got) == 0 {
					done <- mine
					return
				}
				mine = append(mine, got...)
			}
		}()
	}
	for range 2 {
		for _, r := range <-done {
			seen[r.EventID]++
		}
	}
	if len(seen) != 50 {
		t.Fatalf("claimed %d distinct records, want 50", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s claimed %d times", id, n)
		}
	}
}

func TestBadDatabaseURLIsNotEchoed(t *testing.T) {
	_, err := spool.OpenPostgres(context.Background(), "postgres://app:hunter2@[::1", 0)
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("err = %v", err)
	}
}

// Concurrent Puts that grow the file (bbolt remaps it) while Stats reads it:
// nothing on the write path may read the mmap unlocked (bbolt's DB.Info
// does, and faulted here once under load).
func TestBoltConcurrentGrowth(t *testing.T) {
	s, err := spool.OpenBolt(t.TempDir(), 0, time.Second, spool.WithMinFree(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	big := json.RawMessage(`"` + strings.Repeat("x", 64<<10) + `"`)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 25 {
				r := spool.Record{EventID: fmt.Sprintf("g%d-%d", g, i), Event: big, EnqueuedAt: t0, NextAt: t0}
				if err := s.Put(context.Background(), []spool.Record{r}); err != nil {
					t.Error(err)
					return
				}
				if _, err := s.Stats(context.Background()); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if st, err := s.Stats(context.Background()); err != nil || st.Depth != 200 {
		t.Fatalf("depth %d, %v; want 200", st.Depth, err)
	}
}
