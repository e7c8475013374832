package settings

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Validate reports the first problem that would make the settings unusable,
// checking route.event, inngest.maxEventBytes, public, route.maxBodyBytes
// (which depends on the two before it), route.rateLimit, apiTokens and
// events.disabled, in that order.
func (s Settings) Validate() error {
	checks := []func() error{
		s.validateEvent,
		s.validateMaxEventBytes,
		func() error { return checkPublic(s.Public) },
		s.validateMaxBodyBytes,
		s.validateRateLimit,
		s.validateTokens,
		s.validateDisabled,
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// validateEvent checks route.event against Inngest's rules for a name.
func (s Settings) validateEvent() error {
	if err := CheckEventName(s.Route.Event); err != nil {
		return fieldErr("route.event", "%v", err)
	}
	return nil
}

// CheckEventName checks an event name against Inngest's rules: not empty,
// at most 255 bytes, not starting with inngest/ in any letter case
// (reserved for Inngest's own events). The Inngest dev server v1.0.0
// compares the prefix case-sensitively (it takes Inngest/x); newer Inngest
// lowercases the name first, so routeapi refuses every case, the stricter
// of the two.
func CheckEventName(name string) error {
	switch {
	case name == "":
		return errors.New("must not be empty")
	case len(name) > maxEventNameLen:
		return fmt.Errorf("longer than %d bytes", maxEventNameLen)
	case len(name) >= len(reservedPrefix) && strings.EqualFold(name[:len(reservedPrefix)], reservedPrefix):
		return errors.New("names starting with inngest/ (in any letter case) are reserved by Inngest")
	}
	return nil
}

// reservedPrefix starts the names of Inngest's own events.
const reservedPrefix = "inngest/"

// validateDisabled checks that each name of events.disabled is an event
// name, once.
func (s Settings) validateDisabled() error {
	for i, name := range s.Events.Disabled {
		path := fmt.Sprintf("events.disabled[%d]", i)
		if err := CheckEventName(name); err != nil {
			return fieldErr(path, "%v", err)
		}
		if slices.Index(s.Events.Disabled, name) < i {
			return fieldErr(path, "%q appears twice", name)
		}
	}
	return nil
}

// validateCatalogue checks the settings against the event names of POST
// /api/events (catalogue): events.disabled names only catalogue events, and
// route.event is not one of them.
func (s Settings) validateCatalogue(catalogue []string) error {
	if slices.Contains(catalogue, s.Route.Event) {
		return fieldErr("route.event", "%q is an event of the POST /api/events catalogue, whose data has its own schema; the route's event keeps its own shape (RouteEvent): choose another name", s.Route.Event)
	}
	for i, name := range s.Events.Disabled {
		if !slices.Contains(catalogue, name) {
			return fieldErr(fmt.Sprintf("events.disabled[%d]", i), "%q is not an event of the catalogue; it has %s", name, strings.Join(catalogue, ", "))
		}
	}
	return nil
}

// validateMaxEventBytes checks inngest.maxEventBytes against the Inngest server's ceiling.
func (s Settings) validateMaxEventBytes() error {
	if n := s.Inngest.MaxEventBytes; n < 1 || n > MaxMaxEventBytes {
		return fieldErr("inngest.maxEventBytes", "want 1 to %d (the Inngest server's largest event), got %d", MaxMaxEventBytes, n)
	}
	return nil
}

// validateMaxBodyBytes checks that the envelope leaves room for data and that
// route.maxBodyBytes fits in what is left.
func (s Settings) validateMaxBodyBytes() error {
	fit := MaxBodyFor(s)
	if fit < minBodyBytes {
		return fieldErr("public", "the event's envelope with these public settings is %d bytes, which leaves no room for data under inngest.maxEventBytes (%d): every event would be too large for Inngest",
			EnvelopeBytes(s), s.Inngest.MaxEventBytes)
	}
	if n := s.Route.MaxBodyBytes; n < 1 || n > fit {
		return fieldErr("route.maxBodyBytes", "want 1 to %d, got %d: a larger body cannot fit an event of inngest.maxEventBytes (%d) with its envelope of %d bytes (id, name, ts, user, public settings, request id)",
			fit, n, s.Inngest.MaxEventBytes, EnvelopeBytes(s))
	}
	return nil
}

// validateRateLimit checks route.rateLimit's bounds, when there is one.
func (s Settings) validateRateLimit() error {
	rl := s.Route.RateLimit
	if rl == nil {
		return nil
	}
	if rl.Requests < 1 || rl.Requests > maxRateRequests {
		return fieldErr("route.rateLimit.requests", "want 1 to %d, got %d", maxRateRequests, rl.Requests)
	}
	if rl.Per < minRatePer || rl.Per > maxRatePer {
		return fieldErr("route.rateLimit.per", "want %s to %s, got %s", minRatePer, maxRatePer, rl.Per)
	}
	return nil
}

// validateTokens checks the apiTokens identities' lengths and that no id or hash repeats.
func (s Settings) validateTokens() error {
	ids, hashes := map[string]bool{}, map[[32]byte]bool{}
	for i, t := range s.APITokens {
		if t.ID == "" || len(t.ID) > maxIdentityLen || len(t.Name) > maxIdentityLen {
			return fieldErr(fmt.Sprintf("apiTokens[%d].id", i), "want 1 to %d characters (and a name of at most %d)", maxIdentityLen, maxIdentityLen)
		}
		if ids[t.ID] {
			return fieldErr(fmt.Sprintf("apiTokens[%d].id", i), "%q appears twice", t.ID)
		}
		if hashes[t.Hash] {
			return fieldErr(fmt.Sprintf("apiTokens[%d].sha256", i), "the same hash appears twice")
		}
		ids[t.ID], hashes[t.Hash] = true, true
	}
	return nil
}
