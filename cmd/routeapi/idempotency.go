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
	// idempotencyCleanupBatch bounds one cleanup transaction, and
	// idempotencyCleanupRounds the transactions of one run: a backlog is
	// worked off over several runs without holding the store's lock long.
	idempotencyCleanupBatch  = 1000
	idempotencyCleanupRounds = 10
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
		total := 0
		for range idempotencyCleanupRounds {
			n, err := st.Cleanup(ctx, now(), idempotencyCleanupBatch)
			if err != nil {
				log.Error("idempotency cleanup", "err", err.Error())
				break
			}
			total += n
			if n < idempotencyCleanupBatch {
				break
			}
		}
		if total > 0 {
			log.Debug("idempotency cleanup", "deleted", total)
		}
	}
}
