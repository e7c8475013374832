package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/routeapi/routeapi/internal/config"
	"github.com/routeapi/routeapi/internal/delivery"
	"github.com/routeapi/routeapi/internal/inngest"
	"github.com/routeapi/routeapi/internal/metrics"
	"github.com/routeapi/routeapi/internal/spool"
)

// boltLockWait is how long opening the bolt spool waits for another process's lock.
const boltLockWait = 2 * time.Second

// openSpool opens the configured spool.
func openSpool(ctx context.Context, cfg config.Config) (spool.Spool, error) {
	switch cfg.Spool {
	case config.SpoolPostgres:
		return spool.OpenPostgres(ctx, cfg.SpoolDatabaseURL, cfg.SpoolMaxEvents)
	default:
		return spool.OpenBolt(cfg.SpoolDir, cfg.SpoolMaxEvents, boltLockWait, spool.WithMinFree(uint64(cfg.SpoolMinFreeBytes))) //nolint:gosec // G115: config bounds it to [0, 2^40]
	}
}

// deliveryParts is the delivery machinery serve runs.
type deliveryParts struct {
	metrics   *metrics.Metrics
	breaker   *delivery.Breaker
	batcher   *delivery.Batcher
	deliverer *delivery.Deliverer
	publisher *delivery.Publisher
	state     deliveryState
}

// deliveryState is what /readyz reports.
type deliveryState struct {
	spool.Spool
	*delivery.Breaker
}

func newDelivery(cfg config.Config, sp spool.Spool, log *slog.Logger) (*deliveryParts, error) {
	client, err := inngest.NewClient(inngest.ClientConfig{
		EventKey: cfg.InngestEventKey,
		BaseURL:  cfg.InngestBaseURL,
		Dev:      cfg.InngestDev,
		Env:      cfg.InngestEnv,
		Timeout:  cfg.PublishTimeout,
	})
	if err != nil {
		return nil, fmt.Errorf("event API client: %w", err)
	}
	m := metrics.New(sp.Stats)
	blog := log.With("component", "circuit")
	breaker := delivery.NewBreaker(cfg.BreakerThreshold, cfg.BreakerCooldown, func(s delivery.State) {
		m.Circuit(s)
		blog.Info("Inngest circuit breaker", "state", s.String())
	})
	// The one path into Inngest: the batcher and the deliverer both send
	// through it (timed, counted, feeding the breaker).
	sender := delivery.NewSender(client, breaker, m)
	batcher := delivery.NewBatcher(delivery.BatcherConfig{
		Linger:      cfg.BatchLinger,
		MaxEvents:   cfg.BatchMaxEvents,
		MaxBytes:    cfg.BatchMaxBytes,
		MaxInFlight: 64,
		Timeout:     cfg.PublishTimeout,
	}, sender)
	deliverer := delivery.NewDeliverer(delivery.DelivererConfig{
		Batch:      cfg.BatchMaxEvents,
		MaxBytes:   cfg.BatchMaxBytes,
		Poll:       cfg.SpoolPoll,
		MinBackoff: cfg.RetryMinBackoff,
		MaxBackoff: cfg.RetryMaxBackoff,
		Lease:      2*cfg.PublishTimeout + 5*time.Second,
	}, sp, sender, m, log.With("component", "deliverer"))
	return &deliveryParts{
		metrics: m, breaker: breaker, batcher: batcher, deliverer: deliverer,
		publisher: &delivery.Publisher{
			Batcher: batcher, Spool: sp, Metrics: m,
			Log: log.With("component", "publisher"), Timeout: cfg.PublishTimeout,
			Wake: deliverer.Wake, Now: time.Now,
		},
		state: deliveryState{sp, breaker},
	}, nil
}
