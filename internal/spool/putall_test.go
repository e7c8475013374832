package spool_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/spool"
	"github.com/routeapi/routeapi/internal/testkit/pgtest"
)

// poison is a record no spool can store: a NUL byte inside the event's
// JSON (PostgreSQL's text refuses 0x00; the bolt record's JSON encoder
// refuses an invalid raw value).
func poison() spool.Record {
	r := rec(99)
	r.Event = json.RawMessage("{\"a\":\"\x00\"}")
	return r
}

// putAllOrNone checks that one Put of several records is one unit: a Put
// that does not fit (ErrFull) or fails on its last record stores none of
// them, and the spool takes the next Put as if they never were. s holds at
// most 5 waiting events and starts empty.
func putAllOrNone(t *testing.T, s spool.Spool) {
	ctx := context.Background()
	depth := func() int {
		t.Helper()
		st, err := s.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return st.Depth
	}
	if err := s.Put(ctx, []spool.Record{rec(1), rec(2), rec(3)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, []spool.Record{rec(4), rec(5), rec(6)}); !errors.Is(err, spool.ErrFull) {
		t.Fatalf("Put of 3 with room for 2: %v, want ErrFull", err)
	}
	if d := depth(); d != 3 {
		t.Fatalf("depth %d after a Put that did not fit, want 3", d)
	}
	if err := s.Put(ctx, []spool.Record{rec(7), poison()}); err == nil || errors.Is(err, spool.ErrFull) {
		t.Fatalf("Put with a record the spool cannot store: %v, want a storage error", err)
	}
	if d := depth(); d != 3 {
		t.Fatalf("depth %d after a Put that failed on its second record, want 3", d)
	}
	if err := s.Put(ctx, []spool.Record{rec(8), rec(9)}); err != nil {
		t.Fatalf("Put of 2 with room for 2 after the failures: %v", err)
	}
	got, err := s.Claim(ctx, t0, 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range got {
		ids = append(ids, r.EventID)
	}
	if fmt.Sprint(ids) != "[ev-1 ev-2 ev-3 ev-8 ev-9]" {
		t.Fatalf("claimed %v, want ev-1 ev-2 ev-3 ev-8 ev-9 (nothing of the failed Puts), in order", ids)
	}
}

func TestBoltPutIsAllOrNone(t *testing.T) {
	s, err := spool.OpenBolt(t.TempDir(), 5, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	putAllOrNone(t, s)
}

func TestPostgresPutIsAllOrNone(t *testing.T) {
	pg := pgtest.Start(t)
	s, err := spool.OpenPostgres(context.Background(), pg.URL, 5)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	putAllOrNone(t, s)
	var rows int
	if err := pgtest.Connect(t, pg.URL).QueryRow(context.Background(), `SELECT count(*) FROM routeapi_spool`).Scan(&rows); err != nil || rows != 5 {
		t.Fatalf("%d rows, %v; want 5", rows, err)
	}
}
