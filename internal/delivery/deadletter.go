package delivery

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/routeapi/routeapi/internal/spool"
)

// deadLetters is the one way routeapi keeps events Inngest refused
// (inngest.Rejected: a 4xx for the event sent alone): buried in the spool's
// dead letters, where `routeapi spool replay` finds them, counted
// (routeapi_dead_lettered_events_total) and logged at ERROR. The Publisher
// and the Deliverer both use it.
type deadLetters struct {
	spool   spool.Spool
	metrics Metrics
	log     *slog.Logger
}

// bury moves recs, which Inngest refused with cause, to the dead letters,
// then counts and logs them. what names them in the log line ("the event",
// "a spooled event"); attrs go before the event id and the error. When the
// spool fails, bury returns its error and counts and logs nothing: what a
// lost dead letter means is the caller's to say. More than one record (the
// events of a sendEvents batch Inngest refused for one cause) are logged in
// one line with their ids.
func (dl deadLetters) bury(ctx context.Context, recs []spool.Record, cause error, what string, attrs ...any) error {
	if err := dl.spool.Bury(ctx, recs, cause.Error()); err != nil {
		return err
	}
	dl.metrics.DeadLettered(len(recs))
	if len(recs) == 1 {
		dl.log.Error("Inngest refused "+what+"; it is in the dead letters (routeapi spool replay sends it again)",
			append(attrs, "event_id", recs[0].EventID, "err", cause.Error())...)
		return nil
	}
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.EventID
	}
	dl.log.Error(fmt.Sprintf("Inngest refused %d events (each sent alone); they are in the dead letters (routeapi spool replay sends them again)", len(recs)),
		append(attrs, "event_ids", ids, "err", cause.Error())...)
	return nil
}
