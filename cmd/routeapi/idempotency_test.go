package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/idempotency"
)

// expiredKeys is an idempotency.Store holding expired keys: Cleanup deletes
// up to max of them, and counts its calls.
type expiredKeys struct {
	idempotency.Store
	left, calls int
	err         error
}

func (s *expiredKeys) Cleanup(_ context.Context, _ time.Time, max int) (int, error) {
	s.calls++
	if s.err != nil {
		return 0, s.err
	}
	n := min(s.left, max)
	s.left -= n
	return n, nil
}

// One cleanup run deletes every expired key, however many there are, in
// bounded batches: a backlog bigger than any fixed number of batches per
// run (keys made faster than the runs delete them) does not grow without end.
func TestCleanExpiredCatchesUp(t *testing.T) {
	now := func() time.Time { return time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC) }
	for _, backlog := range []int{0, 1, idempotencyCleanupBatch - 1, idempotencyCleanupBatch, idempotencyCleanupBatch + 1, 25*idempotencyCleanupBatch + 7} {
		st := &expiredKeys{left: backlog}
		n, err := cleanExpired(context.Background(), st, now)
		if err != nil || n != backlog || st.left != 0 {
			t.Errorf("backlog %d: deleted %d, %d left, %v; want all", backlog, n, st.left, err)
		}
		if want := backlog/idempotencyCleanupBatch + 1; st.calls != want {
			t.Errorf("backlog %d: %d transactions, want %d of at most %d keys", backlog, st.calls, want, idempotencyCleanupBatch)
		}
	}

	// A failing store ends the run with its error; a cancelled context ends it too.
	st := &expiredKeys{left: 5000, err: errors.New("disk I/O error")}
	if _, err := cleanExpired(context.Background(), st, now); err == nil || st.calls != 1 {
		t.Errorf("failing store: %v after %d calls, want the error after 1", err, st.calls)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	st = &expiredKeys{left: 5000}
	if n, err := cleanExpired(ctx, st, now); n != 0 || err != nil || st.calls != 0 {
		t.Errorf("cancelled: %d, %v after %d calls, want nothing done", n, err, st.calls)
	}
}
