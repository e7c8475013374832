// Package spool keeps events that could not be published yet, durably, until
// a deliverer sends them. Two implementations share the Spool interface: an
// embedded bbolt file (one process) and a PostgreSQL table (any number of
// replicas, claimed with FOR UPDATE SKIP LOCKED).
package spool

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/routeapi/routeapi/internal/diskspace"
)

// ErrFull is returned by Put when the spool holds its maximum number of events.
var ErrFull = errors.New("spool is full")

// Record is one spooled event.
type Record struct {
	// Seq identifies the record in its spool (assigned by Put).
	Seq uint64 `json:"-"`
	// EventID is the event's deduplication id.
	EventID string `json:"eventId"`
	// Event is the encoded event object, sent as is.
	Event json.RawMessage `json:"event"`
	// Attempts counts failed deliveries.
	Attempts int `json:"attempts"`
	// EnqueuedAt is when the event entered the spool.
	EnqueuedAt time.Time `json:"enqueuedAt"`
	// NextAt is when the record is due for (another) delivery.
	NextAt time.Time `json:"nextAt"`
	// LastError is why the last delivery failed.
	LastError string `json:"lastError,omitempty"`
}

// Stats describe a spool.
type Stats struct {
	// Depth is the number of events waiting for delivery.
	Depth int
	// Oldest is when the oldest waiting event was enqueued (zero when none).
	Oldest time.Time
	// Dead is the number of dead letters.
	Dead int
	// Disk is the free-space reserve of a file spool (zero for PostgreSQL):
	// Disk.Low while new writes are refused.
	Disk diskspace.Status
}

// OldestAge is how long the oldest waiting event has waited at now (0 when none).
func (s Stats) OldestAge(now time.Time) time.Duration {
	if s.Oldest.IsZero() || now.Before(s.Oldest) {
		return 0
	}
	return now.Sub(s.Oldest)
}

// Spool is a durable queue of events with dead letters. Implementations are
// safe for concurrent use.
type Spool interface {
	// Put stores records durably (synced to disk or committed) before it
	// returns; it fills in nothing but storage. ErrFull when there is no room.
	Put(ctx context.Context, recs []Record) error
	// Claim returns up to max records due at now and leases them until
	// now+lease, so that no other deliverer takes them meanwhile.
	Claim(ctx context.Context, now time.Time, max int, lease time.Duration) ([]Record, error)
	// Ack removes delivered records.
	Ack(ctx context.Context, seqs []uint64) error
	// Retry stores the records' new Attempts, NextAt and LastError.
	Retry(ctx context.Context, recs []Record) error
	// Bury moves records to the dead letters, with reason.
	Bury(ctx context.Context, recs []Record, reason string) error
	// Replay moves every dead letter back, due at now; it returns how many.
	Replay(ctx context.Context, now time.Time) (int, error)
	// DeadLetters lists up to max dead letters, oldest first.
	DeadLetters(ctx context.Context, max int) ([]Record, error)
	// Stats reports depth, oldest and dead letters.
	Stats(ctx context.Context) (Stats, error)
	// Close releases the spool.
	Close() error
}
