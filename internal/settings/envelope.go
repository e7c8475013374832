package settings

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

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
// are written: a string that is not UTF-8 (json.Marshal would replace its
// invalid bytes before rawjson.Check could see them), not JSON (e.g. .inf),
// or breaking a rule of rawjson.Check (a YAML integer beyond what float64
// holds exactly, say).
func checkPublic(public map[string]any) error {
	if ptr, bad := notUTF8(public, ""); bad {
		return fieldErr("public"+pointerPath(ptr), "a string that is not UTF-8 (a !!binary value?): it would reach Inngest with U+FFFD in place of each invalid byte")
	}
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

// notUTF8 finds a string (a value, or a member name) in v, as decoded from
// YAML, that is not valid UTF-8, and returns its JSON pointer (RFC 6901) below
// at: a member's pointer for its name. Names are visited in sorted order, so
// the answer is the same on every load.
func notUTF8(v any, at string) (string, bool) {
	switch v := v.(type) {
	case string:
		return at, !utf8.ValidString(v)
	case []any:
		for i, e := range v {
			if p, bad := notUTF8(e, at+"/"+strconv.Itoa(i)); bad {
				return p, true
			}
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			p := at + "/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(k)
			if !utf8.ValidString(k) {
				return p, true
			}
			if p, bad := notUTF8(v[k], p); bad {
				return p, true
			}
		}
	}
	return "", false
}
