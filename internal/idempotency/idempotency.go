// Package idempotency keeps the promise of the Idempotency-Key header
// (draft-ietf-httpapi-idempotency-key-header, as Stripe's API behaves): the
// first request with a key reserves it for its principal and records a
// fingerprint of the request; a repeat with the same payload gets the first
// answer back without publishing anything again; a repeat with another
// payload is refused; a repeat while the first is still in flight is told
// to wait.
//
// Two stores implement Store: Bolt (buckets in the bbolt spool's file, one
// process) and Postgres (a table beside the PostgreSQL spool, shared by
// replicas). Both take time from the caller (an injected clock), never from
// the database.
package idempotency

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/routeapi/routeapi/internal/rawjson"
)

// Window is how long a key stays bound to its first request: Inngest's
// deduplication window for event ids (24 hours from the first event with an
// id), so that within it a key can never publish a second, different event
// under the same id.
const Window = 24 * time.Hour

// Principal is who a key belongs to: Kind names the kind of identity
// ("user" for a session's user, "apitoken" for an API token), ID its id in
// that kind. Keys of different principals never meet.
type Principal struct {
	Kind string
	ID   string
}

// Key is an Idempotency-Key as sent, with its principal and the operation
// it was sent to.
type Key struct {
	Principal Principal
	Key       string
	// Operation keeps one principal's keys of different operations apart:
	// "" is POST /api/route (postRoute), whose digest is the one it had
	// before operations existed; OperationSendEvents is POST /api/events.
	Operation string
}

// OperationSendEvents is Key.Operation for POST /api/events (operationId
// sendEvents): a key sent there never meets the same key sent to
// POST /api/route.
const OperationSendEvents = "sendEvents"

// Digest is the fixed-size name a Key is stored under.
type Digest [sha256.Size]byte

// Digest hashes the key with its principal: SHA-256 over length-prefixed
// parts (each part's length in bytes as a uint64, big endian, then its
// bytes): "routeapi idempotency key v2", kind, id, key. Length prefixes
// make the encoding injective over any bytes, so two different (kind, id,
// key) triples never meet, whatever an id contains: a user id
// "apitoken:x" cannot reach the API token x's keys, and ids that differ
// only in bytes that are not UTF-8 stay apart (v1 hashed a JSON array,
// which writes every such byte as U+FFFD). A non-empty Operation is a fifth
// part, length-prefixed as the others: the parts of an operation's key are
// never those of a route key (which has four) nor of another operation's,
// while a route key's digest stays what it was before Operation existed.
func (k Key) Digest() Digest {
	h := sha256.New()
	parts := [5]string{"routeapi idempotency key v2", k.Principal.Kind, k.Principal.ID, k.Key, k.Operation}
	n := len(parts)
	if k.Operation == "" {
		n--
	}
	for _, part := range parts[:n] {
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(part))))
		h.Write([]byte(part))
	}
	var d Digest
	h.Sum(d[:0])
	return d
}

// Fingerprint identifies the request a key was first used with.
type Fingerprint [sha256.Size]byte

// FingerprintOf fingerprints a request by what the caller chose that ends
// up in the event: its data, compacted (the event carries data as
// json.Marshal compacts it, so white space does not change the event, but
// member order, numbers' spelling and escapes do). What the server adds
// (user, settings, request id, timestamp) is not the caller's request and is
// not fingerprinted: see README.md, "Idempotency".
func FingerprintOf(data json.RawMessage) (Fingerprint, error) {
	h := sha256.New()
	compact, err := rawjson.Compact(data) // json.Compact's bytes, without a copy when there is no white space
	if err != nil {
		return Fingerprint{}, fmt.Errorf("fingerprint: %w", err)
	}
	for _, part := range [][]byte{[]byte("routeapi request v1"), compact} {
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(part))))
		h.Write(part)
	}
	var fp Fingerprint
	h.Sum(fp[:0])
	return fp, nil
}

// State is where a key's first request is.
type State int16

// The states of a key.
const (
	// InFlight: a request holds the key (until its lease ends).
	InFlight State = iota + 1
	// Done: the answer is recorded and is replayed to repeats.
	Done
	// Released: the request failed without an answer worth replaying (a
	// 5xx); a repeat with the same payload may try again.
	Released
)

// Answer is a recorded success: the status and body fields of the answer.
// Both stores keep it as this JSON; a record written before a field existed
// reads with that field empty.
type Answer struct {
	// Status is 200 (Inngest accepted the event or events) or 202 (queued).
	Status int `json:"status"`
	// EventID is the event's id (POST /api/route).
	EventID string `json:"eventId"`
	// EventIDs are the events' ids in the order sent (POST /api/events:
	// sendEvents); nil for the route.
	EventIDs []string `json:"eventIds,omitempty"`
	// IDs are Inngest's ids (200 only).
	IDs []string `json:"ids"`
}

// Outcome is what Begin decided.
type Outcome int

// Begin's outcomes.
const (
	// Proceed: the caller holds the key; it must Complete or Release it.
	Proceed Outcome = iota + 1
	// Replay: the key's first request is done; answer with Result.Answer.
	Replay
	// Busy: the key's first request (same payload) is still in flight.
	Busy
	// Mismatch: the key was used with another payload in the window.
	Mismatch
)

func (o Outcome) String() string {
	switch o {
	case Proceed:
		return "proceed"
	case Replay:
		return "replay"
	case Busy:
		return "in-flight"
	case Mismatch:
		return "mismatch"
	}
	return "unknown"
}

// Result is Begin's decision.
type Result struct {
	Outcome Outcome
	// Answer is the first answer (Replay).
	Answer Answer
	// LeaseLeft is how long the request in flight still holds the key (Busy).
	LeaseLeft time.Duration
	// ExpiresAt is when the key is free again (every outcome).
	ExpiresAt time.Time
}

// Store records keys. Implementations are safe for concurrent use, also
// across processes sharing one database (Postgres).
type Store interface {
	// Begin looks the key up at now and, when no request holds it, reserves
	// it for this request (Proceed) for lease: a request that dies without
	// Complete or Release frees the key when its lease ends. A new
	// reservation is refused with an error wrapping diskspace.ErrLow while
	// the disk is below its reserve (Bolt).
	Begin(ctx context.Context, key Digest, fp Fingerprint, now time.Time, lease time.Duration) (Result, error)
	// Complete records the answer of the request that holds key with fp.
	Complete(ctx context.Context, key Digest, fp Fingerprint, a Answer) error
	// Release frees a key held with fp after a failed request: a repeat with
	// the same payload proceeds, one with another payload still gets
	// Mismatch (the failed request may have reached Inngest).
	Release(ctx context.Context, key Digest, fp Fingerprint) error
	// Recorded returns the answer recorded for key with fp when its window
	// has not ended at now (ok false otherwise: no key, another payload, a
	// request still in flight or released). It only reads: a request that
	// settings refuse looks here for the answer a retry of an earlier
	// request must get, without reserving the key.
	Recorded(ctx context.Context, key Digest, fp Fingerprint, now time.Time) (a Answer, ok bool, err error)
	// Cleanup deletes up to max keys whose window ended at now; it returns
	// how many it deleted.
	Cleanup(ctx context.Context, now time.Time, max int) (int, error)
}

// record is what a store keeps per key.
type record struct {
	Fingerprint Fingerprint `json:"fp"`
	State       State       `json:"state"`
	Answer      Answer      `json:"answer"`
	// ExpiresAt ends the window: the first request's time plus Window.
	ExpiresAt time.Time `json:"expiresAt"`
	// LeaseUntil ends an InFlight reservation.
	LeaseUntil time.Time `json:"leaseUntil"`
}

// recorded is Recorded's rule, shared by both stores: cur's answer when it
// is done with fp and its window has not ended at now.
func recorded(cur *record, fp Fingerprint, now time.Time) (Answer, bool) {
	if cur == nil || !now.Before(cur.ExpiresAt) || cur.State != Done || cur.Fingerprint != fp {
		return Answer{}, false
	}
	return cur.Answer, true
}

// decide is Begin's rule, shared by both stores: given the stored record (nil
// when none), it returns the result and the record to store (nil: no write).
func decide(cur *record, fp Fingerprint, now time.Time, lease time.Duration) (Result, *record) {
	if cur == nil || !now.Before(cur.ExpiresAt) {
		next := &record{Fingerprint: fp, State: InFlight, ExpiresAt: now.Add(Window), LeaseUntil: now.Add(lease)}
		return Result{Outcome: Proceed, ExpiresAt: next.ExpiresAt}, next
	}
	if cur.Fingerprint != fp {
		// Whatever the first request's state: it published, will publish, or
		// may have published an event under this key's id.
		return Result{Outcome: Mismatch, ExpiresAt: cur.ExpiresAt}, nil
	}
	switch {
	case cur.State == Done:
		return Result{Outcome: Replay, Answer: cur.Answer, ExpiresAt: cur.ExpiresAt}, nil
	case cur.State == InFlight && now.Before(cur.LeaseUntil):
		return Result{Outcome: Busy, LeaseLeft: cur.LeaseUntil.Sub(now), ExpiresAt: cur.ExpiresAt}, nil
	}
	// Released, or in flight past its lease (its process died): take it over.
	// The event id is the same, so Inngest deduplicates an event the earlier
	// request may have sent.
	next := *cur
	next.State, next.LeaseUntil = InFlight, now.Add(lease)
	return Result{Outcome: Proceed, ExpiresAt: next.ExpiresAt}, &next
}

// errNotHeld is returned by Complete and Release when the key is not held
// with that fingerprint (it expired and was cleaned up, or never was).
var errNotHeld = errors.New("idempotency key is not held by this request")

// complete and release are the transitions of Complete and Release.
func complete(cur *record, fp Fingerprint, a Answer) (*record, error) {
	if cur == nil || cur.Fingerprint != fp {
		return nil, errNotHeld
	}
	next := *cur
	next.State, next.Answer, next.LeaseUntil = Done, a, time.Time{}
	return &next, nil
}

func release(cur *record, fp Fingerprint) (*record, error) {
	if cur == nil || cur.Fingerprint != fp {
		return nil, errNotHeld
	}
	if cur.State == Done {
		return nil, nil // another request with the same payload finished it
	}
	next := *cur
	next.State, next.LeaseUntil = Released, time.Time{}
	return &next, nil
}
