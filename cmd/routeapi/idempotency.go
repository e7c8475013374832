package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/routeapi/routeapi/internal/config"
	"github.com/routeapi/routeapi/internal/idempotency"
	"github.com/routeapi/routeapi/internal/spool"
)

const (
	// idempotencyCleanupEvery is how often expired keys are deleted.
	idempotencyCleanupEvery = time.Minute
	// idempotencyCleanupBatch bounds one cleanup transaction, so that the
	// store's lock (bbolt's single writer, PostgreSQL's row locks) is never
	// held long; a run goes on, batch after batch, until no expired key is
	// left, so that cleanup keeps up with any rate of new keys.
	idempotencyCleanupBatch = 1000
)

// idempotencyLease is how long a request holds its key: longer than a
// publish can take (the publish bound, then a spool write with its own
// bound), so that a live request never loses its key; a request whose
// process died frees it then.
func idempotencyLease(cfg config.Config) time.Duration {
	return 2*cfg.PublishTimeout + 10*time.Second
}

// openIdempotency returns the idempotency store in the spool's storage:
// buckets in the bolt file (guarded by the same disk reserve) or a table in
// the spool's PostgreSQL database.
func openIdempotency(ctx context.Context, sp spool.Spool) (idempotency.Store, error) {
	switch s := sp.(type) {
	case *spool.Bolt:
		return idempotency.NewBolt(s.DB(), s.Reserve())
	case *spool.Postgres:
		return idempotency.NewPostgres(ctx, s.Pool(), s.Schema())
	}
	return nil, fmt.Errorf("idempotency store: no store for spool %T", sp)
}

// cleanIdempotency deletes expired keys every idempotencyCleanupEvery until
// ctx ends.
func cleanIdempotency(ctx context.Context, st idempotency.Store, now func() time.Time, log *slog.Logger) {
	t := time.NewTicker(idempotencyCleanupEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		total, err := cleanExpired(ctx, st, now)
		if err != nil {
			log.Error("idempotency cleanup", "deleted", total, "err", err.Error())
		} else if total > 0 {
			log.Debug("idempotency cleanup", "deleted", total)
		}
	}
}

// cleanExpired deletes every key expired at now(), in transactions of at
// most idempotencyCleanupBatch keys, until one deletes fewer (none is left)
// or ctx ends; it returns how many it deleted. A fixed number of
// transactions per run would let keys made faster than that (more than
// batch × transactions per idempotencyCleanupEvery) pile up without end.
func cleanExpired(ctx context.Context, st idempotency.Store, now func() time.Time) (int, error) {
	total := 0
	for ctx.Err() == nil {
		n, err := st.Cleanup(ctx, now(), idempotencyCleanupBatch)
		total += n
		if err != nil {
			return total, err
		}
		if n < idempotencyCleanupBatch {
			break
		}
	}
	return total, nil
}
