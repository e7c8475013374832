// Package authdbtest creates next-auth's database-session tables in a test
// PostgreSQL from their documented DDL (testdata/sql/prisma.sql and
// testdata/sql/pg-adapter.sql) and writes users and sessions the way the
// adapters write them. Tests only.
package authdbtest

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/routeapi/routeapi/internal/pgurl"
	"github.com/routeapi/routeapi/internal/testkit/nextauthmint"
)

// Schemas, as ROUTEAPI_DB_SCHEMA names them.
const (
	Prisma    = "prisma"
	PGAdapter = "pg-adapter"
)

// DB is one schema's tables in a test database.
type DB struct {
	Pool   *pgxpool.Pool
	Schema string
}

// Setup connects to url (Prisma's parameters allowed, see internal/pgurl) and creates schema's tables from testdata/sql/<schema>.sql.
// The pool is closed when the test ends.
func Setup(tb testing.TB, url, schema string) *DB {
	tb.Helper()
	dir, err := nextauthmint.Dir()
	if err != nil {
		tb.Fatalf("authdbtest: %v", err)
	}
	ddl, err := os.ReadFile(filepath.Join(dir, "..", "sql", schema+".sql")) //nolint:gosec // G304: the repository's own DDL
	if err != nil {
		tb.Fatalf("authdbtest: %v", err)
	}
	ctx := context.Background()
	// The app's URL, read as routeapi reads it: ?schema=… (Prisma) puts the
	// tables in that schema.
	pu, err := pgurl.Parse(url)
	if err != nil {
		tb.Fatalf("authdbtest: %v", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, pu.Pool)
	if err != nil {
		tb.Fatalf("authdbtest: %v", err)
	}
	tb.Cleanup(pool.Close)
	if _, err := pool.Exec(ctx, string(ddl)); err != nil {
		tb.Fatalf("authdbtest: create %s tables: %v", schema, err)
	}
	return &DB{Pool: pool, Schema: schema}
}

// Exec runs sql on the test database.
func (d *DB) Exec(tb testing.TB, sql string, args ...any) {
	tb.Helper()
	if _, err := d.Pool.Exec(context.Background(), sql, args...); err != nil {
		tb.Fatalf("authdbtest: %s: %v", sql, err)
	}
}

// AddUser inserts a user as the adapter's createUser does and returns its id
// (a cuid-like string with Prisma, the SERIAL integer as text with pg-adapter).
func (d *DB) AddUser(tb testing.TB, name, email, image string) string {
	tb.Helper()
	ctx := context.Background()
	if d.Schema == Prisma {
		id := "c" + rand.Text()[:24]
		d.Exec(tb, `INSERT INTO "User" (id, name, email, image, "updatedAt") VALUES ($1, $2, $3, $4, $5::timestamp(3))`,
			id, name, email, image, prismaTime(time.Now()))
		return id
	}
	var id int
	if err := d.Pool.QueryRow(ctx, `INSERT INTO users (name, email, "emailVerified", image) VALUES ($1, $2, $3, $4) RETURNING id`,
		name, email, nil, image).Scan(&id); err != nil {
		tb.Fatalf("authdbtest: add user: %v", err)
	}
	return fmt.Sprint(id)
}

// AddSession inserts a session for userID expiring at expires, as the
// adapter's createSession does, and returns its sessionToken (a random UUID,
// as next-auth makes them).
func (d *DB) AddSession(tb testing.TB, userID string, expires time.Time) string {
	tb.Helper()
	token := uuid()
	if d.Schema == Prisma {
		// Prisma sends DateTime as UTC wall time into timestamp(3).
		d.Exec(tb, `INSERT INTO "Session" (id, "sessionToken", "userId", expires, "updatedAt") VALUES ($1, $2, $3, $4::timestamp(3), $5::timestamp(3))`,
			"c"+rand.Text()[:24], token, userID, prismaTime(expires), prismaTime(time.Now()))
		return token
	}
	// node-postgres sends a Date as local time with its offset; any offset names the same instant.
	d.Exec(tb, `INSERT INTO sessions ("userId", expires, "sessionToken") VALUES ($1::integer, $2::timestamptz, $3)`,
		userID, expires.In(time.FixedZone("", 2*3600)).Format("2006-01-02T15:04:05.000-07:00"), token)
	return token
}

// DeleteUser deletes a user; ON DELETE CASCADE removes their sessions, as with the adapters' deleteUser.
func (d *DB) DeleteUser(tb testing.TB, id string) {
	tb.Helper()
	if d.Schema == Prisma {
		d.Exec(tb, `DELETE FROM "User" WHERE id = $1`, id)
		return
	}
	d.Exec(tb, `DELETE FROM users WHERE id = $1::integer`, id)
}

func prismaTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000") }

func uuid() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
