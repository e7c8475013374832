package dbsession_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/routeapi/routeapi/internal/dbsession"
	"github.com/routeapi/routeapi/internal/pgurl"
	"github.com/routeapi/routeapi/internal/session"
	"github.com/routeapi/routeapi/internal/sessioncache"
	"github.com/routeapi/routeapi/internal/testkit/authdbtest"
	"github.com/routeapi/routeapi/internal/testkit/fakeclock"
	"github.com/routeapi/routeapi/internal/testkit/pgtest"
)

// TestWithPostgres runs the resolver against one real PostgreSQL, one
// database per subtest.
func TestWithPostgres(t *testing.T) {
	srv := pgtest.Start(t)
	admin := pgtest.Connect(t, srv.URL)
	for name, run := range map[string]func(*testing.T, string){
		"table override": testTableOverride,
		"cache":          testCache,
		"check":          testCheck,
		"prisma url":     testPrismaURL,
		"prisma schemas": testPrismaSchemaNames,
		"prisma public":  testPrismaDefaultSchema,
	} {
		t.Run(name, func(t *testing.T) {
			db := "t_" + strings.ReplaceAll(name, " ", "_")
			if _, err := admin.Exec(context.Background(), "CREATE DATABASE "+db); err != nil {
				t.Fatal(err)
			}
			run(t, strings.Replace(srv.URL, "/postgres?", "/"+db+"?", 1))
		})
	}
}

// testPrismaURL: a Prisma app's own DATABASE_URL, with the tables in the
// schema it names and Prisma's pool parameters, reaches the session (it was
// FATAL: unrecognized configuration parameter "schema", so 503 for ever).
func testPrismaURL(t *testing.T, url string) {
	ctx := context.Background()
	admin := pgtest.Connect(t, url)
	if _, err := admin.Exec(ctx, `CREATE SCHEMA "authSchema"`); err != nil {
		t.Fatal(err)
	}
	db := authdbtest.Setup(t, url+"&schema=authSchema", authdbtest.Prisma)
	id := db.AddUser(t, "Ada", "ada@example.com", "")
	tok := db.AddSession(t, id, time.Now().Add(time.Hour))
	var inSchema bool
	if err := admin.QueryRow(ctx, `SELECT to_regclass('"authSchema"."Session"') IS NOT NULL AND to_regclass('public."Session"') IS NULL`).Scan(&inSchema); err != nil || !inSchema {
		t.Fatalf("the tables are not (only) in the URL's schema: %v", err)
	}
	for _, params := range []string{
		"&schema=authSchema",
		"&schema=authSchema&connection_limit=5&pool_timeout=10",
		"&schema=authSchema&pgbouncer=true",
		"&schema=authSchema&connect_timeout=10&socket_timeout=5&statement_cache_size=0&application_name=web",
	} {
		pu, err := pgurl.Parse(url + params)
		if err != nil {
			t.Fatalf("%s: %v", params, err)
		}
		pool, err := pgxpool.NewWithConfig(ctx, pu.Pool)
		if err != nil {
			t.Fatal(err)
		}
		r, err := dbsession.New(dbsession.Config{DB: pool, Schema: dbsession.SchemaPrisma, PGSchema: pu.Schema})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Check(ctx); err != nil {
			t.Errorf("%s: Check: %v", params, err)
		}
		for range 2 {
			s, err := r.Resolve(ctx, session.Credential{Token: tok, Source: session.SourceCookie})
			if err != nil || s.Subject != id {
				t.Errorf("%s: Resolve = %+v, %v; want user %s", params, s, err, id)
			}
		}
		pool.Close()
	}
	// The qualified names alone find the tables (PgBouncer in transaction
	// mode may hand the query a connection whose search_path was not set).
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	r, err := dbsession.New(dbsession.Config{DB: pool, Schema: dbsession.SchemaPrisma, PGSchema: "authSchema"})
	if err != nil {
		t.Fatal(err)
	}
	if s, err := r.Resolve(ctx, session.Credential{Token: tok, Source: session.SourceCookie}); err != nil || s.Subject != id {
		t.Errorf("qualified tables, default search_path: %+v, %v", s, err)
	}
}

// testPrismaSchemaNames: Prisma's schema parameter is one schema name, used
// as search_path = "<name>" (quaint quotes it), so a name with a dot, a
// space, a quote or upper case (percent- or plus-encoded in the URL) is that
// one schema, never schema.table.
func testPrismaSchemaNames(t *testing.T, base string) {
	ctx := context.Background()
	admin := pgtest.Connect(t, base)
	created := map[string]bool{}
	for i, tc := range []struct{ schema, param string }{
		{"my.app", "my.app"},
		{"my.app", "my%2Eapp"},
		{"with space", "with+space"},
		{"with space", "with%20space"},
		{`we"quote`, "we%22quote"},
		{"UPPER.Case", "UPPER.Case"},
	} {
		if _, err := admin.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{tc.schema}.Sanitize()); err != nil && !strings.Contains(err.Error(), "already exists") {
			t.Fatal(err)
		}
		url := base + "&schema=" + tc.param
		db := &authdbtest.DB{Pool: mustPool(t, url), Schema: authdbtest.Prisma}
		if !created[tc.schema] { // the app's tables, where Prisma puts them
			db = authdbtest.Setup(t, url, authdbtest.Prisma)
			created[tc.schema] = true
		}
		id := db.AddUser(t, "Ada", fmt.Sprintf("ada%d@example.com", i), "")
		tok := db.AddSession(t, id, time.Now().Add(time.Hour))
		for _, extra := range []string{"", "&pgbouncer=true"} {
			pu, err := pgurl.Parse(url + extra)
			if err != nil {
				t.Fatalf("%s%s: %v", tc.param, extra, err)
			}
			if pu.Schema != tc.schema {
				t.Fatalf("%s: schema %q, want %q", tc.param, pu.Schema, tc.schema)
			}
			r, err := dbsession.New(dbsession.Config{DB: mustPool(t, url+extra), Schema: dbsession.SchemaPrisma, PGSchema: pu.Schema})
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Check(ctx); err != nil {
				t.Errorf("schema=%s%s: Check: %v", tc.param, extra, err)
			}
			s, err := r.Resolve(ctx, session.Credential{Token: tok, Source: session.SourceCookie})
			if err != nil || s.Subject != id {
				t.Errorf("schema=%s%s: Resolve = %+v, %v; want user %s", tc.param, extra, s, err, id)
			}
		}
	}
}

// testPrismaDefaultSchema: a Prisma URL without ?schema= means public
// (quaint's default schema, set as the search_path), not the server's
// default search_path ("$user", public), which reads a schema named like the
// role first: a decoy Session table there must not answer.
func testPrismaDefaultSchema(t *testing.T, url string) {
	ctx := context.Background()
	pool := mustPool(t, url)
	var role string
	if err := pool.QueryRow(ctx, `SELECT current_user`).Scan(&role); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{role}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	public := authdbtest.Setup(t, url+"&schema=public", authdbtest.Prisma)
	decoy := authdbtest.Setup(t, url+"&schema="+role, authdbtest.Prisma)
	id := public.AddUser(t, "Ada", "ada@example.com", "")
	tok := public.AddSession(t, id, time.Now().Add(time.Hour))
	other := decoy.AddUser(t, "Mallory", "mallory@example.com", "")
	decoy.Exec(t, `INSERT INTO "Session" (id, "sessionToken", "userId", expires, "updatedAt") VALUES ('decoy', $1, $2, $3, now())`, tok, other, time.Now().Add(time.Hour))

	r, err := dbsession.New(dbsession.Config{DB: pool, Schema: dbsession.SchemaPrisma})
	if err != nil {
		t.Fatal(err)
	}
	s, err := r.Resolve(ctx, session.Credential{Token: tok, Source: session.SourceCookie})
	if err != nil || s.Subject != id {
		t.Errorf("Resolve = %+v, %v; want %s from public (Prisma's default schema), not the role's schema", s, err, id)
	}
}

func mustPool(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	pu, err := pgurl.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), pu.Pool)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// testTableOverride reads tables renamed with Prisma's @@map.
func testTableOverride(t *testing.T, url string) {
	db := authdbtest.Setup(t, url, authdbtest.Prisma)
	db.Exec(t, `CREATE SCHEMA app`)
	db.Exec(t, `ALTER TABLE "Session" RENAME TO auth_sessions`)
	db.Exec(t, `ALTER TABLE "User" RENAME TO auth_users`)
	db.Exec(t, `ALTER TABLE auth_sessions SET SCHEMA app`)
	db.Exec(t, `ALTER TABLE auth_users SET SCHEMA app`)
	db.Exec(t, `CREATE VIEW "User" AS SELECT * FROM app.auth_users`) // so AddUser/AddSession still find them
	db.Exec(t, `CREATE VIEW "Session" AS SELECT * FROM app.auth_sessions`)
	id := db.AddUser(t, "Ada", "ada@example.com", "")
	tok := db.AddSession(t, id, time.Now().Add(time.Hour))

	r, err := dbsession.New(dbsession.Config{DB: db.Pool, Schema: dbsession.SchemaPrisma, SessionTable: "app.auth_sessions", UserTable: "app.auth_users"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := r.Resolve(context.Background(), session.Credential{Token: tok, Source: session.SourceCookie})
	if err != nil || s.Subject != id {
		t.Fatalf("Resolve through renamed tables: %+v, %v", s, err)
	}
}

// testCache: with the service's cache in front (internal/sessioncache), a
// cached database session survives its row for at most the TTL; TTL 0 does
// not cache.
func testCache(t *testing.T, url string) {
	db := authdbtest.Setup(t, url, authdbtest.PGAdapter)
	id := db.AddUser(t, "Ada", "ada@example.com", "")
	clock := fakeclock.New(time.Now())
	for _, ttl := range []time.Duration{0, 5 * time.Second} {
		tok := db.AddSession(t, id, clock.Now().Add(time.Hour))
		dr, err := dbsession.New(dbsession.Config{DB: db.Pool, Schema: dbsession.SchemaPGAdapter, Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		r, err := sessioncache.New(dr, sessioncache.Config{TTL: ttl, Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		cred := session.Credential{Token: tok, Source: session.SourceCookie}
		if _, err := r.Resolve(context.Background(), cred); err != nil {
			t.Fatalf("ttl %s: first lookup: %v", ttl, err)
		}
		db.Exec(t, `DELETE FROM sessions WHERE "sessionToken" = $1`, tok) // signed out
		_, err = r.Resolve(context.Background(), cred)
		if cachedOK := err == nil; cachedOK != (ttl > 0) {
			t.Errorf("ttl %s: lookup after sign-out: %v; want cached=%v", ttl, err, ttl > 0)
		}
		clock.Advance(ttl + time.Second)
		if _, err := r.Resolve(context.Background(), cred); err == nil {
			t.Errorf("ttl %s: lookup after the TTL: still accepted", ttl)
		}
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := dbsession.New(dbsession.Config{Schema: dbsession.SchemaPrisma}); err == nil {
		t.Error("no database: want an error")
	}
	if _, err := dbsession.New(dbsession.Config{DB: fakeDB{}, Schema: "drizzle"}); err == nil {
		t.Error("unknown schema: want an error")
	}
}

// TestMalformedTokensSkipTheDatabase: an empty, overlong or non-UTF-8 token
// (PostgreSQL would refuse it with an error that reads as "unavailable") is
// refused before any query.
func TestMalformedTokensSkipTheDatabase(t *testing.T) {
	r, err := dbsession.New(dbsession.Config{DB: fakeDB{}, Schema: dbsession.SchemaPGAdapter})
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{"", string(make([]byte, 256)), "abc\xff", "abc\x00def"} {
		if _, err := r.Resolve(context.Background(), session.Credential{Token: tok}); !errors.Is(err, session.ErrMalformed) {
			t.Errorf("token of %d bytes: %v, want ErrMalformed", len(tok), err)
		}
	}
}

// fakeDB panics if it is ever queried: the tests using it must not reach the database.
type fakeDB struct{}

func (fakeDB) QueryRow(context.Context, string, ...any) pgx.Row { panic("queried the database") }

// BenchmarkResolve compares a database lookup with a cache hit (real PostgreSQL).
func BenchmarkResolve(b *testing.B) {
	srv := pgtest.Start(b)
	db := authdbtest.Setup(b, srv.URL, authdbtest.Prisma)
	tok := db.AddSession(b, db.AddUser(b, "Ada", "ada@example.com", ""), time.Now().Add(time.Hour))
	cred := session.Credential{Token: tok, Source: session.SourceCookie}
	for _, ttl := range []time.Duration{0, 5 * time.Second} {
		b.Run("cache="+ttl.String(), func(b *testing.B) {
			dr, err := dbsession.New(dbsession.Config{DB: db.Pool, Schema: dbsession.SchemaPrisma})
			if err != nil {
				b.Fatal(err)
			}
			r, err := sessioncache.New(dr, sessioncache.Config{TTL: ttl})
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := r.Resolve(context.Background(), cred); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// testCheck tells readable tables from a wrong schema setting.
func testCheck(t *testing.T, url string) {
	db := authdbtest.Setup(t, url, authdbtest.PGAdapter)
	for schema, wantOK := range map[string]bool{dbsession.SchemaPGAdapter: true, dbsession.SchemaPrisma: false} {
		r, err := dbsession.New(dbsession.Config{DB: db.Pool, Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Check(context.Background()); (err == nil) != wantOK {
			t.Errorf("Check with schema %s on pg-adapter tables: %v, want ok=%v", schema, err, wantOK)
		}
	}
}
