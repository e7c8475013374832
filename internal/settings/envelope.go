package settings

import (
	"encoding/json"
	"errors"
	"strconv"

	"github.com/routeapi/routeapi/internal/rawjson"
)

// The smallest request body with data: {"data":0}. bodyFrame is what a body
// holds around its data value at least: {"data":}.
const (
	minBodyBytes = int64(len(`{"data":0}`))
	bodyFrame    = int64(len(`{"data":}`))
)

// MaxDataDepth is how deep arrays and objects may nest in a request's data
// (rawjson.RuleDepth): far below the 10000 of encoding/json, which Inngest
// decodes the whole event with and then wraps again.
const MaxDataDepth = 512

// EnvelopeBytes is the size of the smallest event s can produce, without
// its data value: the encoded event
//
//	{"id":"<32 hex>","name":<route.event>,"data":{"data":<data>,"user":{"id":"u"},"settings":<public>,"requestId":"r"},"ts":<13 digits>}
//
// (internal/events encodes exactly this shape; its tests check this sum).
// Real events are larger by the user's claims and the request id.
func EnvelopeBytes(s Settings) int64 {
	name, _ := json.Marshal(s.Route.Event)
	public, _ := json.Marshal(s.Public)
	const fixed = len(`{"id":"","name":,"data":{"data":,"user":{"id":"u"},"settings":,"requestId":"r"},"ts":}`) + 32 + 13
	return int64(fixed + len(name) + len(public))
}

// MaxBodyFor is the largest route.maxBodyBytes s allows: a body of that
// size with compact data, sent by a user with a one-character id, makes an
// event of exactly inngest.maxEventBytes.
func MaxBodyFor(s Settings) int64 {
	return min(MaxMaxBodyBytes, s.Inngest.MaxEventBytes-EnvelopeBytes(s)+bodyFrame)
}

// checkPublic refuses public settings that Inngest would not store as they
// are written: not JSON (e.g. .inf), or breaking a rule of rawjson.Check (a
// YAML integer beyond what float64 holds exactly, say).
func checkPublic(public map[string]any) error {
	enc, err := json.Marshal(public)
	if err != nil {
		return fieldErr("public", "not representable as JSON: every key must be a string and every number finite (%v)", err)
	}
	if _, err := rawjson.Check(enc, MaxDataDepth); err != nil {
		if p := (*rawjson.Problem)(nil); errors.As(err, &p) {
			return fieldErr("public"+pointerPath(p.Pointer), "%s", p.Detail)
		}
		return fieldErr("public", "%v", err)
	}
	return nil
}

// pointerPath shows a JSON pointer after "public" ("" for the root).
func pointerPath(p string) string {
	if p == "" {
		return ""
	}
	return " at " + strconv.Quote(p)
}
