package api_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/routeapi/routeapi/internal/authdbtest"
	"github.com/routeapi/routeapi/internal/dbsession"
	"github.com/routeapi/routeapi/internal/pgtest"
	"github.com/routeapi/routeapi/internal/session"
)

// TestDatabaseSessions runs database sessions through the full handler
// against a real PostgreSQL, for both schemas, with rows written the way the
// adapters write them. The database's time zone is not UTC, so a Prisma
// timestamp read as local time would be caught.
func TestDatabaseSessions(t *testing.T) {
	srv := pgtest.Start(t)
	ctx := context.Background()
	admin, err := pgxpool.New(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, `ALTER DATABASE postgres SET timezone TO 'America/New_York'`); err != nil {
		t.Fatal(err)
	}
	admin.Close()

	for _, schema := range []string{authdbtest.Prisma, authdbtest.PGAdapter} {
		t.Run(schema, func(t *testing.T) {
			db := authdbtest.Setup(t, srv.URL, schema)
			now := time.Now()
			ada := db.AddUser(t, "Ada", "ada@example.com", "https://example.com/ada.png")
			valid := db.AddSession(t, ada, now.Add(30*24*time.Hour))
			expired := db.AddSession(t, ada, now.Add(-time.Second))
			gone := db.AddUser(t, "Gone", "gone@example.com", "")
			goneSession := db.AddSession(t, gone, now.Add(time.Hour))
			db.DeleteUser(t, gone)
			noName := db.AddUser(t, "", "", "")
			noNameSession := db.AddSession(t, noName, now.Add(time.Hour))

			pool, err := pgxpool.New(ctx, srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(pool.Close)
			r, err := dbsession.New(dbsession.Config{DB: pool, Schema: schema})
			if err != nil {
				t.Fatal(err)
			}
			h := newHarness(t, options{sessions: r, cookieNames: session.CookieNamesFor(session.FormatAuto, true)})
			cookie := func(name, tok string) request {
				return request{body: `{"data":1}`, cookies: []*http.Cookie{{Name: name, Value: tok}}}
			}
			tests := []struct {
				name   string
				req    request
				want   int
				wantID string
			}{
				{"valid, v4 cookie name", cookie(session.SecureCookieName, valid), 200, ada},
				{"valid, v5 cookie name", cookie(session.V5CookieName, valid), 200, ada},
				{"valid, bearer", request{body: `{"data":1}`, headers: bearer(valid)}, 200, ada},
				{"user without name or email", cookie(session.V5SecureCookieName, noNameSession), 200, noName},
				{"expired a second ago", cookie(session.CookieName, expired), 401, ""},
				{"unknown token", cookie(session.CookieName, "6b0c7a4e-6c55-4a55-9d53-000000000000"), 401, ""},
				{"deleted user", cookie(session.CookieName, goneSession), 401, ""},
				{"token too long", cookie(session.CookieName, strings.Repeat("a", 256)), 401, ""},
			}
			for _, tt := range tests {
				rec := h.serve(t, tt.req)
				if rec.Code != tt.want {
					t.Errorf("%s: %d %s, want %d", tt.name, rec.Code, rec.Body, tt.want)
					continue
				}
				if tt.want != 200 {
					continue
				}
				ev := h.pub.events[len(h.pub.events)-1]
				if ev.Data.User.ID != tt.wantID {
					t.Errorf("%s: event user %+v, want id %s", tt.name, ev.Data.User, tt.wantID)
				}
				if tt.wantID == ada && (ev.Data.User.Email != "ada@example.com" || ev.Data.User.Name != "Ada" || ev.Data.User.Image != "https://example.com/ada.png") {
					t.Errorf("%s: event user %+v, want the user row's name, email and image", tt.name, ev.Data.User)
				}
			}

			// Database stopped: 503 with Retry-After, never 401.
			srv.Stop(t)
			rec := h.serve(t, cookie(session.CookieName, valid))
			if rec.Code != 503 || rec.Header().Get("Retry-After") == "" || decodeProblem(t, rec).Type != "urn:routeapi:problem:session-store-unavailable" {
				t.Errorf("database stopped: %d %s, want 503 session-store-unavailable with Retry-After", rec.Code, rec.Body)
			}
			srv.Restart(t)
			// The pool reconnects; poll until it has (a dead pooled connection may fail once).
			var last int
			for range 20 {
				if last = h.serve(t, cookie(session.CookieName, valid)).Code; last == 200 {
					break
				}
			}
			if last != 200 {
				t.Errorf("after restarting the database: %d, want 200", last)
			}
		})
	}
}

// TestDatabaseSessionTableOverride reads tables renamed with Prisma's @@map.
func TestDatabaseSessionTableOverride(t *testing.T) {
	srv := pgtest.Start(t)
	db := authdbtest.Setup(t, srv.URL, authdbtest.Prisma)
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

// TestDatabaseSessionCache: a cached session survives its row for at most the TTL; TTL 0 does not cache.
func TestDatabaseSessionCache(t *testing.T) {
	srv := pgtest.Start(t)
	db := authdbtest.Setup(t, srv.URL, authdbtest.PGAdapter)
	id := db.AddUser(t, "Ada", "ada@example.com", "")
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	for _, ttl := range []time.Duration{0, 5 * time.Second} {
		tok := db.AddSession(t, id, time.Now().Add(time.Hour))
		r, err := dbsession.New(dbsession.Config{DB: db.Pool, Schema: dbsession.SchemaPGAdapter, CacheTTL: ttl, Now: clock})
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
		mu.Lock()
		now = now.Add(ttl + time.Second)
		mu.Unlock()
		if _, err := r.Resolve(context.Background(), cred); err == nil {
			t.Errorf("ttl %s: lookup after the TTL: still accepted", ttl)
		}
	}
}
