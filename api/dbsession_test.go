package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/routeapi/routeapi/internal/dbsession"
	"github.com/routeapi/routeapi/internal/session"
	"github.com/routeapi/routeapi/internal/testkit/authdbtest"
	"github.com/routeapi/routeapi/internal/testkit/pgtest"
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
				{"bearer token not UTF-8", request{body: `{"data":1}`, headers: bearer("abc\xff")}, 401, ""},
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
