package idempotency_test

import (
	"context"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/idempotency"
	"github.com/routeapi/routeapi/internal/spool"
	"github.com/routeapi/routeapi/internal/testkit/pgtest"
)

// A key's row that disappears while Begin waits for it (a replica's Cleanup
// deleting the expired row between Begin's conflicting INSERT and its
// SELECT ... FOR UPDATE) must not leave Begin answering Proceed with no row
// stored: the key would then not be held at all, so a concurrent request
// with the same key would proceed too, and one with other data would not be
// refused. Begin must store the reservation it answers.
func TestPostgresBeginRowDeletedWhileWaiting(t *testing.T) {
	srv := pgtest.Start(t)
	ctx := context.Background()
	sp, err := spool.OpenPostgres(ctx, srv.URL, 0)
	if err != nil {
		t.Fatal(err)
	}
	pool := sp.Pool()
	t.Cleanup(pool.Close)
	st, err := idempotency.NewPostgres(ctx, pool, sp.Schema())
	if err != nil {
		t.Fatal(err)
	}
	k, a, b := key("user", "u1", "expiring"), fp(t, `"first"`), fp(t, `"second"`)
	want(t, begin(t, st, k, a, t0), idempotency.Proceed, "first use")
	end := t0.Add(idempotency.Window) // the row has expired by then

	// Another transaction (a replica's Cleanup) locks the expired row, so
	// that Begin's SELECT ... FOR UPDATE waits for it, then deletes it.
	locker, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = locker.Rollback(ctx) }()
	if _, err := locker.Exec(ctx, `SELECT 1 FROM routeapi_idempotency WHERE key = $1 FOR UPDATE`, k[:]); err != nil {
		t.Fatal(err)
	}
	var lockerPID int
	if err := locker.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&lockerPID); err != nil {
		t.Fatal(err)
	}

	type outcome struct {
		res idempotency.Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := st.Begin(ctx, k, b, end, lease)
		done <- outcome{res, err}
	}()
	// Wait (bounded) until Begin is blocked on the locker's row lock.
	deadline := time.Now().Add(20 * time.Second)
	for {
		var waiting int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, lockerPID).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Begin never waited for the row lock")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := locker.Exec(ctx, `DELETE FROM routeapi_idempotency WHERE key = $1`, k[:]); err != nil {
		t.Fatal(err)
	}
	if err := locker.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	got := <-done
	if got.err != nil {
		t.Fatalf("Begin after the row vanished: %v", got.err)
	}
	want(t, got.res, idempotency.Proceed, "the key's window ended")
	// The reservation Begin answered with is stored: the key is held.
	want(t, begin(t, st, k, b, end.Add(time.Second)), idempotency.Busy, "same payload again")
	want(t, begin(t, st, k, a, end.Add(time.Second)), idempotency.Mismatch, "other payload")
}
