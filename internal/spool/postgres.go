package spool

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/routeapi/routeapi/internal/pgurl"
)

// createTable creates the spool table t (a quoted, possibly qualified name).
// The event is kept as text, byte for byte (jsonb would reorder keys and
// reformat numbers). The index takes the table's schema.
func createTable(t string) string {
	return `
CREATE TABLE IF NOT EXISTS ` + t + ` (
	seq         bigserial   PRIMARY KEY,
	event_id    text        NOT NULL,
	event       text        NOT NULL,
	attempts    integer     NOT NULL DEFAULT 0,
	enqueued_at timestamptz NOT NULL,
	next_at     timestamptz NOT NULL,
	last_error  text        NOT NULL DEFAULT '',
	dead        boolean     NOT NULL DEFAULT false
);
CREATE INDEX IF NOT EXISTS routeapi_spool_due ON ` + t + ` (next_at) WHERE NOT dead;
`
}

// Postgres is the shared spool: any replica claims any due event, each at
// most once at a time (FOR UPDATE SKIP LOCKED plus a lease).
type Postgres struct {
	pool   *pgxpool.Pool
	max    int
	schema string // the URL's schema (Prisma's schema parameter), "" for none
	table  string // routeapi_spool, qualified with schema
}

// OpenPostgres connects to url, creates the table if needed and returns a
// spool holding at most max waiting events (0: no limit).
func OpenPostgres(ctx context.Context, url string, max int) (*Postgres, error) {
	// The same parser as the session store's: the URL may be a Prisma app's
	// DATABASE_URL (?schema=…: the spool table goes in that schema).
	pu, err := pgurl.Parse(url)
	if err != nil {
		return nil, fmt.Errorf("open postgres spool: %w", err) // names a parameter, never the URL (it may hold a password)
	}
	cfg := pu.Pool
	if cfg.ConnConfig.ConnectTimeout == 0 {
		// A database behind a dropped network must fail a request, not hang it.
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres spool: %w", err)
	}
	// Two replicas creating the table at once can race on the catalog; one
	// advisory lock makes it one at a time.
	// PgBouncer in transaction mode does not keep a connection's
	// search_path: every statement names the schema itself.
	table := pgurl.Table(pu.Schema, "routeapi_spool")
	_, err = pool.Exec(ctx, `SELECT pg_advisory_lock(74657001); `+createTable(table)+`; SELECT pg_advisory_unlock(74657001)`)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres spool: create table: %w", err)
	}
	return &Postgres{pool: pool, max: max, schema: pu.Schema, table: table}, nil
}

// Schema is the PostgreSQL schema of the spool's tables: the URL's schema
// parameter (Prisma's), "" when it names none (the search_path decides).
// Stores sharing the pool (the idempotency store) put their tables there too.
func (s *Postgres) Schema() string { return s.schema }

// Pool is the spool's connection pool, for stores that share its database
// (the idempotency store); they use their own tables.
func (s *Postgres) Pool() *pgxpool.Pool { return s.pool }

// Put inserts recs in one committed transaction.
func (s *Postgres) Put(ctx context.Context, recs []Record) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if s.max > 0 {
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+s.table+` WHERE NOT dead`).Scan(&n); err != nil {
				return fmt.Errorf("spool put: count: %w", err)
			}
			if n+len(recs) > s.max {
				return ErrFull
			}
		}
		b := &pgx.Batch{}
		for _, r := range recs {
			b.Queue(`INSERT INTO `+s.table+` (event_id, event, attempts, enqueued_at, next_at, last_error) VALUES ($1,$2,$3,$4,$5,$6)`,
				r.EventID, string(r.Event), r.Attempts, r.EnqueuedAt, r.NextAt, r.LastError)
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("spool put: %w", err)
		}
		return nil
	})
}

func scanRecords(rows pgx.Rows) ([]Record, error) {
	defer rows.Close()
	var out []Record
	for rows.Next() {
		var r Record
		var ev string
		var seq int64
		if err := rows.Scan(&seq, &r.EventID, &ev, &r.Attempts, &r.EnqueuedAt, &r.NextAt, &r.LastError); err != nil {
			return nil, err
		}
		r.Seq, r.Event = uint64(seq), []byte(ev) //nolint:gosec // G115: bigserial values are positive
		out = append(out, r)
	}
	return out, rows.Err()
}

// Claim leases up to max due records; rows another replica holds are skipped.
func (s *Postgres) Claim(ctx context.Context, now time.Time, max int, lease time.Duration) ([]Record, error) {
	rows, err := s.pool.Query(ctx, `
		UPDATE `+s.table+` s SET next_at = $2
		FROM (SELECT seq FROM `+s.table+` WHERE NOT dead AND next_at <= $1
		      ORDER BY seq LIMIT $3 FOR UPDATE SKIP LOCKED) due
		WHERE s.seq = due.seq
		RETURNING s.seq, s.event_id, s.event, s.attempts, s.enqueued_at, $1::timestamptz, s.last_error`,
		now, now.Add(lease), max)
	if err != nil {
		return nil, fmt.Errorf("spool claim: %w", err)
	}
	recs, err := scanRecords(rows)
	if err != nil {
		return nil, fmt.Errorf("spool claim: %w", err)
	}
	return recs, nil
}

func seqArgs(seqs []uint64) []int64 {
	out := make([]int64, len(seqs))
	for i, s := range seqs {
		out[i] = int64(s) //nolint:gosec // G115: seqs come from bigserial values
	}
	return out
}

// Ack deletes delivered records.
func (s *Postgres) Ack(ctx context.Context, seqs []uint64) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM `+s.table+` WHERE seq = ANY($1)`, seqArgs(seqs)); err != nil {
		return fmt.Errorf("spool ack: %w", err)
	}
	return nil
}

// Retry stores the records' new state.
func (s *Postgres) Retry(ctx context.Context, recs []Record) error {
	b := &pgx.Batch{}
	for _, r := range recs {
		b.Queue(`UPDATE `+s.table+` SET attempts=$2, next_at=$3, last_error=$4 WHERE seq=$1`, int64(r.Seq), r.Attempts, r.NextAt, r.LastError) //nolint:gosec // G115: seqs come from bigserial values
	}
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("spool retry: %w", err)
	}
	return nil
}

// Bury marks records dead (inserting those that were never spooled).
func (s *Postgres) Bury(ctx context.Context, recs []Record, reason string) error {
	b := &pgx.Batch{}
	for _, r := range recs {
		if r.Seq != 0 {
			b.Queue(`UPDATE `+s.table+` SET dead=true, last_error=$2 WHERE seq=$1`, int64(r.Seq), reason) //nolint:gosec // G115: seqs come from bigserial values
			continue
		}
		b.Queue(`INSERT INTO `+s.table+` (event_id, event, attempts, enqueued_at, next_at, last_error, dead) VALUES ($1,$2,$3,$4,$5,$6,true)`,
			r.EventID, string(r.Event), r.Attempts, r.EnqueuedAt, r.NextAt, reason)
	}
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("spool bury: %w", err)
	}
	return nil
}

// Replay makes every dead letter due again at now.
func (s *Postgres) Replay(ctx context.Context, now time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE `+s.table+` SET dead=false, attempts=0, next_at=$1, last_error='' WHERE dead`, now)
	if err != nil {
		return 0, fmt.Errorf("spool replay: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// DeadLetters lists up to max dead letters, oldest first.
func (s *Postgres) DeadLetters(ctx context.Context, max int) ([]Record, error) {
	rows, err := s.pool.Query(ctx, `SELECT seq, event_id, event, attempts, enqueued_at, next_at, last_error
		FROM `+s.table+` WHERE dead ORDER BY seq LIMIT $1`, max)
	if err != nil {
		return nil, fmt.Errorf("spool dead letters: %w", err)
	}
	recs, err := scanRecords(rows)
	if err != nil {
		return nil, fmt.Errorf("spool dead letters: %w", err)
	}
	return recs, nil
}

// Stats reports depth, oldest and dead letters.
func (s *Postgres) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	var oldest *time.Time
	err := s.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE NOT dead), min(enqueued_at) FILTER (WHERE NOT dead), count(*) FILTER (WHERE dead) FROM `+s.table).
		Scan(&st.Depth, &oldest, &st.Dead)
	if err != nil {
		return Stats{}, fmt.Errorf("spool stats: %w", err)
	}
	if oldest != nil {
		st.Oldest = *oldest
	}
	return st, nil
}

// Close closes the connection pool.
func (s *Postgres) Close() error {
	s.pool.Close()
	return nil
}
