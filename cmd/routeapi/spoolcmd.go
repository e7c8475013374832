package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/routeapi/routeapi/internal/config"
	"github.com/routeapi/routeapi/internal/delivery"
	"github.com/routeapi/routeapi/internal/spool"
)

const spoolUsage = `Usage:
  routeapi spool stats    print the spool's depth, oldest age and dead letters
  routeapi spool dead     list the dead letters (events Inngest refused)
  routeapi spool replay   move the dead letters back and send them to Inngest now

The spool is the one serve uses (ROUTEAPI_SPOOL, ROUTEAPI_SPOOL_DIR, or
ROUTEAPI_SPOOL_DATABASE_URL / DATABASE_URL: the same environment as serve).
stats and dead need only those; replay also needs the Inngest variables
(INNGEST_EVENT_KEY or INNGEST_DEV, INNGEST_BASE_URL). None needs a session
secret. The bolt spool is one file that one process holds at a time: stop
routeapi first (while it runs, its /readyz shows the spool's depth, oldest
age and dead letters). The PostgreSQL spool works while replicas run.
`

// spoolParts are the configuration parts each spool subcommand needs:
// stats and dead only the spool's, replay also Inngest's.
var spoolParts = map[string]config.Part{"stats": config.PartsSpool, "dead": config.PartsSpool, "replay": config.PartsReplay}

// spoolCmd runs `routeapi spool ...`.
func spoolCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	sub, err := spoolSubcommand(args, stdout, stderr)
	if err != nil {
		return err
	}
	cfg, err := config.LoadParts(getenv, spoolParts[sub])
	if err != nil {
		return err
	}
	sp, err := openSpool(ctx, cfg)
	if errors.Is(err, spool.ErrLocked) {
		// A running routeapi holds the bolt file (podman exec into its container, or beside make run).
		return fmt.Errorf("%w: stop it first; while it runs, its /readyz shows the spool's depth, oldest age and dead letters (spool.depth, spool.deadLetters)", err)
	}
	if err != nil {
		return err
	}
	defer func() { _ = sp.Close() }()
	switch sub {
	case "stats":
		return spoolStats(ctx, cfg, sp, stdout)
	case "dead":
		return spoolDead(ctx, sp, stdout)
	}
	return replay(ctx, cfg, sp, stdout, stderr)
}

// spoolSubcommand is the subcommand args name, or errHelp after printing
// the usage, or a usage error.
func spoolSubcommand(args []string, stdout, stderr io.Writer) (string, error) {
	known := false
	if len(args) > 0 {
		_, known = spoolParts[args[0]]
	}
	if asksHelp(args) || (len(args) == 2 && known && asksHelp(args[1:])) {
		return "", printHelp(stdout, spoolUsage)
	}
	if len(args) != 1 {
		_, _ = fmt.Fprint(stderr, spoolUsage)
		return "", fmt.Errorf("spool: want one of stats, dead, replay: %w", errUsage)
	}
	if !known {
		_, _ = fmt.Fprint(stderr, spoolUsage)
		return "", fmt.Errorf("spool: unknown command %q: %w", args[0], errUsage)
	}
	return args[0], nil
}

// spoolStats prints the spool's depth, oldest age and dead letters.
func spoolStats(ctx context.Context, cfg config.Config, sp spool.Spool, stdout io.Writer) error {
	st, err := sp.Stats(ctx)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "spool: %s\ndepth: %d\noldest_age: %s\ndead_letters: %d\n",
		cfg.Spool, st.Depth, st.OldestAge(time.Now()).Round(time.Millisecond), st.Dead)
	return err
}

// spoolDead lists up to 1000 dead letters: event id, enqueued time, last error.
func spoolDead(ctx context.Context, sp spool.Spool, stdout io.Writer) error {
	recs, err := sp.DeadLetters(ctx, 1000)
	if err != nil {
		return err
	}
	for _, r := range recs {
		if _, err := fmt.Fprintf(stdout, "%s\t%s\t%s\n", r.EventID, r.EnqueuedAt.UTC().Format(time.RFC3339), r.LastError); err != nil {
			return err
		}
	}
	return nil
}

// replay moves the dead letters back to the waiting events and delivers what
// is due, once; what Inngest does not take stays in the spool for serve.
func replay(ctx context.Context, cfg config.Config, sp spool.Spool, stdout, stderr io.Writer) error {
	n, err := sp.Replay(ctx, time.Now())
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	d, err := newDelivery(cfg, sp, log)
	if err != nil {
		return err
	}
	defer d.batcher.Close()
	before, err := sp.Stats(ctx)
	if err != nil {
		return err
	}
	if err := deliverDue(ctx, d); err != nil {
		return err
	}
	after, err := sp.Stats(ctx)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "replayed: %d\ndelivered: %d\nwaiting: %d\ndead_letters: %d\n",
		n, max(before.Depth-after.Depth-(after.Dead-before.Dead), 0), after.Depth, after.Dead)
	return err
}

// deliverDue delivers the spool's due events, batch after batch, until none
// is left or the breaker leaves the closed state (Inngest is failing: the
// rest waits for serve).
func deliverDue(ctx context.Context, d *deliveryParts) error {
	for {
		more, err := d.deliverer.Once(ctx)
		if err != nil {
			return err
		}
		if !more || d.breaker.State() != delivery.Closed {
			return nil
		}
	}
}
