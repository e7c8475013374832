package pgtest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Connect opens one pgx connection to url (usually Server.URL, or a URL of
// another database or schema on it) for a test's own statements: creating
// schemas or databases, checking where tables went. It fails the test if the
// connection cannot be made and closes the connection when the test (or
// subtest) tb ends.
func Connect(tb testing.TB, url string) *pgx.Conn {
	tb.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		tb.Fatalf("connect to PostgreSQL: %v", err)
	}
	tb.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}
