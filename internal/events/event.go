// Package events is the event routeapi publishes (the RouteEvent schema of
// openapi.yaml, and the envelope of each CatalogueEvent a sendEvents batch
// publishes): Build makes it, EventID, KeyedEventID and BatchEventID derive
// its id, Encode and Size give its bytes as Inngest's Event API takes them.
// Sending it is internal/inngest's (the Event API client) and
// internal/delivery's (batching, the circuit breaker, the spool).
package events

import (
	"cmp"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/routeapi/routeapi/internal/user"
)

// Event is one Inngest event, shaped as openapi.yaml's RouteEvent.
type Event struct {
	// ID is the deduplication id: Inngest starts no functions for an id it
	// received in the last 24 hours.
	ID   string `json:"id"`
	Name string `json:"name"`
	Data Data   `json:"data"`
	// Timestamp is milliseconds since the Unix epoch.
	Timestamp int64 `json:"ts"`
}

// Data is what the event carries.
type Data struct {
	// Data is the request's data as sent (json.Marshal compacts it).
	Data      json.RawMessage `json:"data"`
	User      user.User       `json:"user"`
	Settings  map[string]any  `json:"settings"`
	RequestID string          `json:"requestId"`
}

// Request is what a caller asked for.
type Request struct {
	// Data is the request body's data value (any JSON value but null).
	Data json.RawMessage
	// IdempotencyKey is the Idempotency-Key header, "" when not sent.
	IdempotencyKey string
	// RequestID identifies the HTTP request.
	RequestID string
	// PrincipalKind is the kind of identity the user is (KindUser or
	// KindAPIToken; "" means KindUser): with the user's id it scopes the
	// idempotency key (see EventID).
	PrincipalKind string
}

// The kinds of principal an idempotency key belongs to.
const (
	// KindUser is a session's user.
	KindUser = "user"
	// KindAPIToken is an API token's service identity.
	KindAPIToken = "apitoken"
)

// Build makes the event named name (the settings' route.event) for a
// request by u, at now, carrying the settings' public values (nil: none).
func Build(name string, public map[string]any, u user.User, req Request, now time.Time) (Event, error) {
	if len(req.Data) == 0 || string(req.Data) == "null" {
		return Event{}, errors.New("build event: data is missing or null")
	}
	if u.ID == "" {
		return Event{}, errors.New("build event: user has no id")
	}
	if public == nil {
		public = map[string]any{}
	}
	return Event{
		ID:        EventID(cmp.Or(req.PrincipalKind, KindUser), u.ID, req.IdempotencyKey),
		Name:      name,
		Timestamp: now.UnixMilli(),
		Data: Data{
			Data:      req.Data,
			User:      u,
			Settings:  public,
			RequestID: req.RequestID,
		},
	}, nil
}

// EventID returns the event's deduplication id: derived from the principal
// (kind and id) and the idempotency key when there is one, so that a retried
// request gets the same id and Inngest deduplicates it; random otherwise.
// Both are 32 lower-case hex characters.
//
// The derived id is the first 16 bytes of SHA-256 over length-prefixed
// (uint64 big endian) parts: a tag, the id, the key. The tag names the kind:
// "routeapi event id v1" for users (unchanged since v1, so a user's retry
// sent across a deploy keeps its id), "routeapi event id v1 <kind>" for
// every other kind. Length prefixes make the encoding injective and the tags
// differ from the first byte on, so principals of different kinds never
// share ids, whatever their ids contain (a user whose id is
// "apitoken:svc-billing" and the API token svc-billing are apart).
func EventID(kind, id, idempotencyKey string) string {
	if idempotencyKey == "" {
		return hex.EncodeToString(randomBytes(16))
	}
	tag := "routeapi event id v1"
	if kind != KindUser {
		tag += " " + kind
	}
	h := sha256.New()
	for _, part := range []string{tag, id, idempotencyKey} {
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(part))))
		h.Write([]byte(part))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// KeyedEventID is the event id of a request whose Idempotency-Key is
// recorded (internal/idempotency): EventID's derivation with the key's
// window as a further part, the end of the window in Unix microseconds
// (the precision both stores keep). Within one window every request with
// the key gets the same id, so Inngest deduplicates whatever a retry or a
// taken-over request sends. A key used again after its window gets a new
// id: Inngest's own 24 hours for the old id start when it receives that
// event, which for an event that waited in the spool is later than the
// key's first request, and a new event under the old id would be dropped.
func KeyedEventID(kind, id, idempotencyKey string, windowEnd time.Time) string {
	h := sha256.New()
	for _, part := range []string{"routeapi keyed event id v1", kind, id, idempotencyKey, strconv.FormatInt(windowEnd.UnixMicro(), 10)} {
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(part))))
		h.Write([]byte(part))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// BatchEventID is the id of event index (0-based) of a sendEvents batch
// (POST /api/events) sent with an Idempotency-Key, which covers the whole
// batch: the first 16 bytes, as 32 lower-case hex characters, of SHA-256
// over length-prefixed (uint64 big endian) parts: "routeapi batch event id
// v1", kind, id, idempotencyKey, the end of the key's window in Unix
// microseconds (as KeyedEventID writes it) or "" when windowEnd is zero (no
// idempotency store: the id is then stable for as long as the key is sent
// again), and index in decimal.
//
// Its own tag keeps it apart from a route event's id: the tag is the first
// part and differs from EventID's ("routeapi event id v1", with or without
// " <kind>") and KeyedEventID's ("routeapi keyed event id v1") in its bytes,
// so no inputs give the same hashed bytes as either of them, and with the
// length prefixes no two (kind, id, key, window, index) do among batch ids.
// Within one window a retry of the batch gets the same ids, event by event,
// so Inngest deduplicates whatever an earlier attempt delivered.
func BatchEventID(kind, id, idempotencyKey string, windowEnd time.Time, index int) string {
	window := ""
	if !windowEnd.IsZero() {
		window = strconv.FormatInt(windowEnd.UnixMicro(), 10)
	}
	h := sha256.New()
	for _, part := range []string{"routeapi batch event id v1", kind, id, idempotencyKey, window, strconv.Itoa(index)} {
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(part))))
		h.Write([]byte(part))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return b
}
