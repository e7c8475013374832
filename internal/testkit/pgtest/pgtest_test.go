package pgtest_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/routeapi/routeapi/internal/testkit/pgtest"
)

func TestStartStopRestart(t *testing.T) {
	srv := pgtest.Start(t)
	query := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, srv.URL)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		var one int
		return conn.QueryRow(ctx, "select 1").Scan(&one)
	}
	if err := query(); err != nil {
		t.Fatalf("query a fresh server: %v", err)
	}
	srv.Stop(t)
	if err := query(); err == nil {
		t.Fatal("query succeeded after Stop")
	}
	srv.Restart(t)
	if err := query(); err != nil {
		t.Fatalf("query after Restart: %v", err)
	}
}
