// Package events builds the event routeapi publishes (the RouteEvent schema
// of openapi.yaml) and publishes it to Inngest.
package events

import (
	"cmp"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	"github.com/routeapi/routeapi/internal/settings"
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
	// IdempotencyScope is who the idempotency key belongs to; "" means the
	// user's id. API tokens set their own scope ("apitoken:<id>"), so a user
	// whose id happens to equal a token's id never shares its event ids.
	IdempotencyScope string
}

// Build makes the event for a request by u under s, at now.
func Build(s settings.Settings, u user.User, req Request, now time.Time) (Event, error) {
	if len(req.Data) == 0 || string(req.Data) == "null" {
		return Event{}, errors.New("build event: data is missing or null")
	}
	if u.ID == "" {
		return Event{}, errors.New("build event: user has no id")
	}
	public := s.Public
	if public == nil {
		public = map[string]any{}
	}
	return Event{
		ID:        EventID(cmp.Or(req.IdempotencyScope, u.ID), req.IdempotencyKey),
		Name:      s.Route.Event,
		Timestamp: now.UnixMilli(),
		Data: Data{
			Data:      req.Data,
			User:      u,
			Settings:  public,
			RequestID: req.RequestID,
		},
	}, nil
}

// EventID returns the event's deduplication id: derived from the user id and
// the idempotency key when there is one, so that a retried request gets the
// same id and Inngest deduplicates it; random otherwise. Both are 32
// lower-case hex characters.
func EventID(userID, idempotencyKey string) string {
	if idempotencyKey == "" {
		return hex.EncodeToString(randomBytes(16))
	}
	h := sha256.New()
	// Length-prefixed, so ("ab","c") and ("a","bc") cannot collide.
	for _, part := range []string{"routeapi event id v1", userID, idempotencyKey} {
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
