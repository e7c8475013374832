package e2e

import (
	"encoding/json"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/apitoken"
	"github.com/routeapi/routeapi/internal/testkit/authdbtest"
	"github.com/routeapi/routeapi/internal/testkit/nextauthmint"
	"github.com/routeapi/routeapi/internal/testkit/pgtest"
)

// TestSessionModesArriveInInngest: an Auth.js v5 cookie minted by the real
// @auth/core, a database session in a real PostgreSQL (Prisma schema) and an
// API token each publish an event that the real Inngest dev server receives
// with the right user.
func TestSessionModesArriveInInngest(t *testing.T) {
	inngest := startInngest(t)
	pg := pgtest.Start(t)
	db := authdbtest.Setup(t, pg.URL, authdbtest.Prisma)
	dbUser := db.AddUser(t, "Grace Hopper", "grace@example.com", "https://example.com/grace.png")
	dbToken := db.AddSession(t, dbUser, time.Now().Add(30*24*time.Hour))

	event := "e2e/sessions." + randomSuffix()
	tok, hash := apitoken.New()
	settings := settingsYAML(event, true, 262144) + "apiTokens:\n  - {id: svc-billing, name: Billing, sha256: " + hash + "}\n"
	v5Secret := "e2e-v5-secret-" + randomSuffix()
	jwt := startRouteAPI(t, settings, map[string]string{"INNGEST_BASE_URL": inngest.URL, "AUTH_SECRET": v5Secret})
	database := startRouteAPI(t, settings, map[string]string{"INNGEST_BASE_URL": inngest.URL,
		"ROUTEAPI_SESSION_STORE": "database", "DATABASE_URL": pg.URL, "ROUTEAPI_DB_SCHEMA": "prisma", "NEXTAUTH_SECRET": ""})

	v5 := nextauthmint.Mint(t, nextauthmint.Case{Name: "v5", Kind: nextauthmint.KindV5, Secrets: []string{v5Secret},
		Claims: map[string]any{"sub": "user_v5", "email": "v5@example.com", "name": "Vee Five"}, MaxAge: 3600})[0]
	if v5.DecodeError != "" {
		t.Fatalf("@auth/core could not decode its own token: %s", v5.DecodeError)
	}

	cases := []struct {
		name   string
		server *routeAPI
		header http.Header
		want   map[string]string
	}{
		{"Auth.js v5 cookie", jwt, http.Header{"Cookie": {v5.CookieHeader}},
			map[string]string{"id": "user_v5", "email": "v5@example.com", "name": "Vee Five"}},
		{"database session", database, http.Header{"Cookie": {"authjs.session-token=" + dbToken}},
			map[string]string{"id": dbUser, "email": "grace@example.com", "name": "Grace Hopper", "image": "https://example.com/grace.png"}},
		{"API token", jwt, http.Header{"Authorization": {"Bearer " + tok}},
			map[string]string{"id": "svc-billing", "name": "Billing"}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := tc.server.post(t, `{"data":"sessions"}`, tc.header)
			if resp.Status != http.StatusOK {
				t.Fatalf("status %d: %s", resp.Status, resp.Body)
			}
			var body routeResponse
			resp.decode(t, &body)
			var got *eventData
			for _, ev := range inngest.waitEvents(t, event, i+1) {
				if ev.ID == body.EventID {
					got = &eventData{}
					if err := json.Unmarshal(ev.Data, got); err != nil {
						t.Fatal(err)
					}
				}
			}
			if got == nil {
				t.Fatalf("event %s not received", body.EventID)
			}
			if len(got.User) != len(tc.want) {
				t.Errorf("event user %v, want %v", got.User, tc.want)
			}
			for k, v := range tc.want {
				if got.User[k] != v {
					t.Errorf("event user %v, want %v", got.User, tc.want)
					break
				}
			}
		})
	}

	// A database session that is not in the database is refused, and a
	// stopped database is a 503, never a 401.
	if resp := database.post(t, `{"data":1}`, http.Header{"Cookie": {"authjs.session-token=not-a-session"}}); resp.Status != 401 {
		t.Errorf("unknown database session: %d %s, want 401", resp.Status, resp.Body)
	}
	pg.Stop(t)
	// A token never looked up before, so the in-process cache cannot answer.
	if resp := database.post(t, `{"data":1}`, http.Header{"Cookie": {"authjs.session-token=" + dbToken + "x"}}); resp.Status != 503 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("database stopped: %d %s, want 503 with Retry-After", resp.Status, resp.Body)
	}

	// No secret, token or session id reaches a log line.
	for name, secret := range map[string]string{"AUTH_SECRET": v5Secret, "API token": tok, "database session token": dbToken, "v5 token": v5.Token} {
		for server, logs := range map[string]string{"jwt": jwt.proc.logs.String(), "database": database.proc.logs.String()} {
			if strings.Contains(logs, secret) {
				t.Errorf("the %s reached the %s server's log", name, server)
			}
		}
	}
}

// TestPrismaDatabaseURL: the app's own DATABASE_URL, Prisma's parameters and
// all (the tables in the schema it names), serves database sessions and the
// PostgreSQL spool; it used to start and then answer 503 to every request
// (FATAL: unrecognized configuration parameter "schema"). A parameter that
// cannot be honoured stops the start, naming it.
func TestPrismaDatabaseURL(t *testing.T) {
	inngest := startInngest(t)
	pg := pgtest.Start(t)
	admin := authdbtest.Setup(t, pg.URL, authdbtest.Prisma) // public: a decoy the URL's schema must not read
	admin.Exec(t, `CREATE SCHEMA "appSchema"`)
	db := authdbtest.Setup(t, pg.URL+"&schema=appSchema", authdbtest.Prisma)
	dbUser := db.AddUser(t, "Grace Hopper", "grace@example.com", "")
	dbToken := db.AddSession(t, dbUser, time.Now().Add(30*24*time.Hour))

	// A schema name with a dot is one schema (Prisma: search_path = "my.app"),
	// not schema.table: it used to be a 503 for every request.
	admin.Exec(t, `CREATE SCHEMA "my.app"`)
	dotted := authdbtest.Setup(t, pg.URL+"&schema=my.app", authdbtest.Prisma)
	dottedUser := dotted.AddUser(t, "Ada Lovelace", "ada@example.com", "")
	dottedToken := dotted.AddSession(t, dottedUser, time.Now().Add(30*24*time.Hour))

	event := "e2e/prisma-url." + randomSuffix()
	for i, tc := range []struct{ params, token, user string }{
		{"&schema=appSchema&connection_limit=5&pool_timeout=10", dbToken, dbUser},
		{"&schema=appSchema&pgbouncer=true&connect_timeout=10&socket_timeout=5", dbToken, dbUser},
		{"&schema=my.app", dottedToken, dottedUser},
	} {
		params, dbToken, dbUser := tc.params, tc.token, tc.user
		t.Run(params, func(t *testing.T) {
			srv := startRouteAPI(t, settingsYAML(event, true, 262144), map[string]string{"INNGEST_BASE_URL": inngest.URL,
				"ROUTEAPI_SESSION_STORE": "database", "DATABASE_URL": pg.URL + params, "ROUTEAPI_DB_SCHEMA": "prisma",
				"NEXTAUTH_SECRET": "", "ROUTEAPI_SPOOL": "postgres"})
			resp := srv.post(t, `{"data":"prisma"}`, http.Header{"Cookie": {"next-auth.session-token=" + dbToken}})
			if resp.Status != http.StatusOK {
				t.Fatalf("status %d: %s", resp.Status, resp.Body)
			}
			var body routeResponse
			resp.decode(t, &body)
			found := false
			for _, ev := range inngest.waitEvents(t, event, i+1) {
				var data eventData
				if err := json.Unmarshal(ev.Data, &data); err != nil {
					t.Fatal(err)
				}
				if ev.ID == body.EventID && data.User["id"] == dbUser {
					found = true
				}
			}
			if !found {
				t.Fatalf("event %s for %s not received", body.EventID, dbUser)
			}
			if strings.Contains(srv.proc.logs.String(), "unrecognized configuration parameter") {
				t.Errorf("a Prisma parameter reached PostgreSQL:\n%s", srv.proc.logs.String())
			}
		})
	}
	var spoolInSchema bool
	if err := admin.Pool.QueryRow(t.Context(), `SELECT to_regclass('"appSchema".routeapi_spool') IS NOT NULL`).Scan(&spoolInSchema); err != nil || !spoolInSchema {
		t.Errorf("the spool table is not in the URL's schema: %v", err)
	}

	cmd := exec.Command(binary(t, "ROUTEAPI_BIN"))
	cmd.Env = []string{"INNGEST_DEV=1", "ROUTEAPI_ADDR=127.0.0.1:0", "ROUTEAPI_SESSION_STORE=database",
		"DATABASE_URL=" + strings.Replace(pg.URL, "app@", "app:pw-hunter2@", 1) + "&schema=appSchema&sslidentity=client.p12&sslpassword=x"}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatal("started with sslidentity, which cannot be honoured")
	}
	if !strings.Contains(string(out), "DATABASE_URL") || !strings.Contains(string(out), "sslidentity") || strings.Contains(string(out), "hunter2") {
		t.Errorf("want a refusal naming DATABASE_URL and sslidentity, without the password; got:\n%s", out)
	}
}
