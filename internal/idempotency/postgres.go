package idempotency

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/routeapi/routeapi/internal/pgurl"
)

// createTable creates the keys table t (a quoted, possibly qualified name)
// beside the spool's (routeapi_spool). The index takes the table's schema.
func createTable(t string) string {
	return `
CREATE TABLE IF NOT EXISTS ` + t + ` (
	key         bytea       PRIMARY KEY,
	fingerprint bytea       NOT NULL,
	state       smallint    NOT NULL,
	answer      text        NOT NULL DEFAULT '',
	expires_at  timestamptz NOT NULL,
	lease_until timestamptz
);
CREATE INDEX IF NOT EXISTS routeapi_idempotency_expiry ON ` + t + ` (expires_at);
`
}

// Postgres keeps keys in a table shared by every replica: a key used on one
// replica is seen on all. Concurrent requests with one key are serialised
// by the row lock (INSERT ... ON CONFLICT, then SELECT ... FOR UPDATE).
type Postgres struct {
	pool  *pgxpool.Pool
	table string // routeapi_idempotency, qualified with the schema
}

var _ Store = (*Postgres)(nil)

// NewPostgres stores keys through pool (the spool's), in the PostgreSQL
// schema pgSchema (the spool's Schema: the URL's schema parameter; "" for
// the search_path's), creating the table if needed. The table is named with
// its schema in every statement: PgBouncer in transaction mode does not keep
// a connection's search_path.
func NewPostgres(ctx context.Context, pool *pgxpool.Pool, pgSchema string) (*Postgres, error) {
	table := pgurl.Table(pgSchema, "routeapi_idempotency")
	// Replicas starting together: one advisory lock (not the spool's) makes
	// the catalog changes one at a time.
	_, err := pool.Exec(ctx, `SELECT pg_advisory_lock(74657002); `+createTable(table)+`; SELECT pg_advisory_unlock(74657002)`)
	if err != nil {
		return nil, fmt.Errorf("idempotency store: create table: %w", err)
	}
	return &Postgres{pool: pool, table: table}, nil
}

// pgTime is t at PostgreSQL's precision (microseconds), so that what is
// compared in Go is what is stored.
func pgTime(t time.Time) time.Time { return t.Truncate(time.Microsecond) }

// beginAttempts bounds Begin's INSERT-then-lock rounds: a round repeats
// only when the row it conflicted with was deleted before it could be locked.
const beginAttempts = 3

// errRowVanished: every round of Begin found the key's row gone when it
// came to lock it.
var errRowVanished = errors.New("the key's row was deleted while being locked, every attempt")

// Begin looks the key up and reserves it when free. The INSERT takes a
// free key; on a conflict the row is locked (SELECT ... FOR UPDATE) and
// decided on. A row deleted between the two (another replica's Cleanup
// removing an expired key) is no row to update: the INSERT is tried again
// in the same transaction (READ COMMITTED: each statement sees what was
// committed before it), so that a Proceed always has its row stored.
func (s *Postgres) Begin(ctx context.Context, key Digest, fp Fingerprint, now time.Time, lease time.Duration) (Result, error) {
	now = pgTime(now)
	var res Result
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		first, next := decide(nil, fp, now, lease)
		for range beginAttempts {
			res = Result{}
			tag, err := tx.Exec(ctx, `INSERT INTO `+s.table+` (key, fingerprint, state, expires_at, lease_until)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key) DO NOTHING`,
				key[:], fp[:], int16(next.State), next.ExpiresAt, next.LeaseUntil)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 1 {
				res = first
				return nil
			}
			cur, err := s.selectForUpdate(ctx, tx, key)
			if err != nil {
				return err
			}
			if cur == nil {
				continue // deleted since the INSERT: insert again
			}
			var upd *record
			res, upd = decide(cur, fp, now, lease)
			if upd == nil {
				return nil
			}
			return s.updateRecord(ctx, tx, key, upd)
		}
		return errRowVanished
	})
	if err != nil {
		return Result{}, fmt.Errorf("idempotency begin: %w", err)
	}
	return res, nil
}

func (s *Postgres) selectForUpdate(ctx context.Context, tx pgx.Tx, key Digest) (*record, error) {
	var r record
	var fp []byte
	var state int16
	var answer string
	var lease *time.Time
	err := tx.QueryRow(ctx, `SELECT fingerprint, state, answer, expires_at, lease_until
		FROM `+s.table+` WHERE key = $1 FOR UPDATE`, key[:]).Scan(&fp, &state, &answer, &r.ExpiresAt, &lease)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if len(fp) != len(r.Fingerprint) {
		return nil, fmt.Errorf("record %x: fingerprint of %d bytes", key[:8], len(fp))
	}
	copy(r.Fingerprint[:], fp)
	r.State = State(state)
	if lease != nil {
		r.LeaseUntil = *lease
	}
	if answer != "" {
		if err := json.Unmarshal([]byte(answer), &r.Answer); err != nil {
			return nil, fmt.Errorf("record %x: answer: %w", key[:8], err)
		}
	}
	return &r, nil
}

func (s *Postgres) updateRecord(ctx context.Context, tx pgx.Tx, key Digest, r *record) error {
	answer := ""
	if r.State == Done {
		b, err := json.Marshal(r.Answer)
		if err != nil {
			return err
		}
		answer = string(b)
	}
	var lease *time.Time
	if !r.LeaseUntil.IsZero() {
		lease = &r.LeaseUntil
	}
	_, err := tx.Exec(ctx, `UPDATE `+s.table+` SET fingerprint=$2, state=$3, answer=$4, expires_at=$5, lease_until=$6
		WHERE key=$1`, key[:], r.Fingerprint[:], int16(r.State), answer, r.ExpiresAt, lease)
	return err
}

func (s *Postgres) update(ctx context.Context, key Digest, step func(*record) (*record, error)) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		cur, err := s.selectForUpdate(ctx, tx, key)
		if err != nil {
			return err
		}
		next, err := step(cur)
		if err != nil || next == nil {
			return err
		}
		return s.updateRecord(ctx, tx, key, next)
	})
}

// Complete records the answer.
func (s *Postgres) Complete(ctx context.Context, key Digest, fp Fingerprint, a Answer) error {
	if err := s.update(ctx, key, func(cur *record) (*record, error) { return complete(cur, fp, a) }); err != nil {
		return fmt.Errorf("idempotency complete: %w", err)
	}
	return nil
}

// Recorded returns the answer recorded for key with fp within its window.
// It reads the row in a transaction of its own (locking it briefly, as
// the other operations do).
func (s *Postgres) Recorded(ctx context.Context, key Digest, fp Fingerprint, now time.Time) (Answer, bool, error) {
	var a Answer
	var ok bool
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		cur, err := s.selectForUpdate(ctx, tx, key)
		if err != nil {
			return err
		}
		a, ok = recorded(cur, fp, pgTime(now))
		return nil
	})
	if err != nil {
		return Answer{}, false, fmt.Errorf("idempotency recorded: %w", err)
	}
	return a, ok, nil
}

// Release frees the key for a retry with the same payload.
func (s *Postgres) Release(ctx context.Context, key Digest, fp Fingerprint) error {
	if err := s.update(ctx, key, func(cur *record) (*record, error) { return release(cur, fp) }); err != nil {
		return fmt.Errorf("idempotency release: %w", err)
	}
	return nil
}

// Cleanup deletes up to limit keys whose window ended at now (through the
// expiry index; rows another replica is cleaning are skipped).
func (s *Postgres) Cleanup(ctx context.Context, now time.Time, limit int) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM `+s.table+` WHERE key IN (
		SELECT key FROM `+s.table+` WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
		pgTime(now), limit)
	if err != nil {
		return 0, fmt.Errorf("idempotency cleanup: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
