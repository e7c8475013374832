// Package settings loads the app settings file (YAML), keeps the last good
// version, and reloads it when the file changes or on request (SIGHUP).
package settings

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/routeapi/routeapi/internal/apitoken"
)

// Defaults applied when the file leaves a value out.
const (
	DefaultEvent = "app/route.requested"
	// DefaultMaxBodyBytes is Inngest's free-plan event size limit (256 KiB).
	DefaultMaxBodyBytes = 256 << 10
	// MaxMaxBodyBytes is the largest event the Inngest server accepts (3 MiB).
	MaxMaxBodyBytes = 3 << 20
	maxEventNameLen = 255
	// Bounds of route.rateLimit.
	maxRateRequests = 1_000_000
	minRatePer      = time.Second
	maxRatePer      = 24 * time.Hour
	maxIdentityLen  = 200
)

// Settings are the app settings the route reads on every request.
type Settings struct {
	Route Route
	// Public is forwarded in every event as data.settings. Never put secrets here.
	Public map[string]any
	// APITokens are the server-to-server tokens accepted, by hash. Removing
	// one revokes it at the next reload.
	APITokens []apitoken.Entry
}

// RateLimit allows Requests per identity in each window of length Per.
type RateLimit struct {
	Requests int
	Per      time.Duration
}

// Route configures POST /api/route.
type Route struct {
	// Enabled switches the route on or off (off: 503 with Retry-After).
	Enabled bool
	// Event is the name of the event published to Inngest.
	Event string
	// MaxBodyBytes is the largest request body accepted (413 above).
	MaxBodyBytes int64
	// RateLimit limits requests per identity (user id or API token id); nil: no limit.
	RateLimit *RateLimit
}

// file is the YAML shape; pointers tell "left out" from "zero".
type file struct {
	Route struct {
		Enabled      *bool   `yaml:"enabled"`
		Event        *string `yaml:"event"`
		MaxBodyBytes *int64  `yaml:"maxBodyBytes"`
		RateLimit    *struct {
			Requests int    `yaml:"requests"`
			Per      string `yaml:"per"`
		} `yaml:"rateLimit"`
	} `yaml:"route"`
	Public    map[string]any `yaml:"public"`
	APITokens []struct {
		ID     string `yaml:"id"`
		Name   string `yaml:"name"`
		SHA256 string `yaml:"sha256"`
	} `yaml:"apiTokens"`
}

// Parse reads settings from YAML, applies defaults and validates them.
// Unknown keys are errors, so a typo does not silently change nothing.
func Parse(data []byte) (Settings, error) {
	var f file
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return Settings{}, syntaxError(err)
	}
	var nodes []located
	if doc.Kind != 0 { // an empty file has no document: every default applies
		var errs []error
		nodes, errs = shape(&doc, reflect.TypeFor[file]())
		if len(errs) == 0 {
			if err := doc.Decode(&f); err != nil {
				var te *yaml.TypeError
				if !errors.As(err, &te) {
					return Settings{}, fmt.Errorf("parse settings: %w", err)
				}
				errs = typeErrors(te, nodes)
			}
		}
		if len(errs) > 0 {
			return Settings{}, joinErrors(errs)
		}
	}
	s, err := fromFile(f)
	if err == nil {
		err = s.Validate()
	}
	if err != nil {
		return Settings{}, locate(err, nodes)
	}
	return s, nil
}

// joinErrors makes one single-line error of several.
func joinErrors(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return errors.New(strings.Join(msgs, "; "))
}

// fromFile applies the defaults to what the file says.
func fromFile(f file) (Settings, error) {
	s := Settings{
		Route:  Route{Enabled: true, Event: DefaultEvent, MaxBodyBytes: DefaultMaxBodyBytes},
		Public: f.Public,
	}
	if f.Route.Enabled != nil {
		s.Route.Enabled = *f.Route.Enabled
	}
	if f.Route.Event != nil {
		s.Route.Event = strings.TrimSpace(*f.Route.Event)
	}
	if f.Route.MaxBodyBytes != nil {
		s.Route.MaxBodyBytes = *f.Route.MaxBodyBytes
	}
	if s.Public == nil {
		s.Public = map[string]any{}
	}
	if rl := f.Route.RateLimit; rl != nil {
		per, err := time.ParseDuration(rl.Per)
		if err != nil {
			return Settings{}, fieldErr("route.rateLimit.per", "want a duration such as 1m, got %q", rl.Per)
		}
		s.Route.RateLimit = &RateLimit{Requests: rl.Requests, Per: per}
	}
	for i, t := range f.APITokens {
		h, err := apitoken.ParseHash(strings.TrimSpace(t.SHA256))
		if err != nil {
			return Settings{}, fieldErr(fmt.Sprintf("apiTokens[%d].sha256", i), "%v", err)
		}
		s.APITokens = append(s.APITokens, apitoken.Entry{
			Identity: apitoken.Identity{ID: strings.TrimSpace(t.ID), Name: strings.TrimSpace(t.Name)}, Hash: h})
	}
	return s, nil
}

// Validate reports the first problem that would make the settings unusable.
func (s Settings) Validate() error {
	switch ev := s.Route.Event; {
	case ev == "":
		return fieldErr("route.event", "must not be empty")
	case len(ev) > maxEventNameLen:
		return fieldErr("route.event", "longer than %d characters", maxEventNameLen)
	case strings.HasPrefix(ev, "inngest/"):
		return fieldErr("route.event", "names starting with inngest/ are reserved by Inngest")
	}
	if n := s.Route.MaxBodyBytes; n < 1 || n > MaxMaxBodyBytes {
		return fieldErr("route.maxBodyBytes", "want 1 to %d (Inngest's largest event), got %d", MaxMaxBodyBytes, n)
	}
	if rl := s.Route.RateLimit; rl != nil {
		if rl.Requests < 1 || rl.Requests > maxRateRequests {
			return fieldErr("route.rateLimit.requests", "want 1 to %d, got %d", maxRateRequests, rl.Requests)
		}
		if rl.Per < minRatePer || rl.Per > maxRatePer {
			return fieldErr("route.rateLimit.per", "want %s to %s, got %s", minRatePer, maxRatePer, rl.Per)
		}
	}
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
	if _, err := json.Marshal(s.Public); err != nil {
		return fieldErr("public", "not representable as JSON: every key must be a string and every number finite")
	}
	return nil
}
