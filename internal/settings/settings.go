// Package settings loads the app settings file (YAML), keeps the last good
// version, and reloads it when the file changes or on request (SIGHUP).
package settings

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/inngest/inngest/pkg/consts"
	"go.yaml.in/yaml/v3"

	"github.com/routeapi/routeapi/internal/apitoken"
)

// Defaults applied when the file leaves a value out.
const (
	DefaultEvent = "app/route.requested"
	// DefaultMaxBodyBytes is the body limit in force while no settings are
	// loaded. Loaded settings that leave route.maxBodyBytes out get the
	// largest body whose event fits inngest.maxEventBytes (MaxBodyFor), but
	// at most this.
	DefaultMaxBodyBytes = 256 << 10
	// MaxMaxBodyBytes is the largest event the Inngest server accepts (3 MiB:
	// consts.AbsoluteMaxEventSize, as MaxMaxEventBytes).
	MaxMaxBodyBytes = consts.AbsoluteMaxEventSize
	// DefaultMaxEventBytes is Inngest Cloud's event size limit on its free
	// plan (256 KiB; https://www.inngest.com/docs/usage-limits/inngest).
	DefaultMaxEventBytes = 256 << 10
	// MaxMaxEventBytes is the largest event the Inngest server accepts:
	// consts.AbsoluteMaxEventSize (3 MiB) in github.com/inngest/inngest,
	// checked on each event's bytes as sent ("Event is over the max size").
	MaxMaxEventBytes = consts.AbsoluteMaxEventSize
	maxEventNameLen  = 255
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
	// Inngest describes the Event API events are sent to.
	Inngest Inngest
	// Events configures POST /api/events.
	Events Events
}

// Events configures POST /api/events (the catalogue of typed events).
type Events struct {
	// Disabled are the catalogue event names switched off: a request with
	// one of them gets 403 event-disabled and publishes nothing. Each is a
	// name of the catalogue (ParseFor).
	Disabled []string
}

// IsDisabled reports whether the event name is switched off.
func (e Events) IsDisabled(name string) bool {
	return slices.Contains(e.Disabled, name)
}

// Inngest describes the Event API routeapi publishes to.
type Inngest struct {
	// MaxEventBytes is the largest encoded event (the whole event object as
	// sent: id, name, ts, data with the request's data, user, public
	// settings and request id) the Event API accepts; a request whose event
	// would be larger gets 413. 256 KiB on Inngest Cloud's free plan, 3 MiB
	// on its paid plans and in the open-source server.
	MaxEventBytes int64
}

// EventLimit is MaxEventBytes, or DefaultMaxEventBytes when it is 0 (settings
// built in code rather than parsed).
func (i Inngest) EventLimit() int64 {
	if i.MaxEventBytes > 0 {
		return i.MaxEventBytes
	}
	return DefaultMaxEventBytes
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

// file is the YAML shape; pointers (and a zero yaml.Node, for the counts
// wholeNumber reads) tell "left out" from "zero".
type file struct {
	Route   fileRoute `yaml:"route"`
	Inngest struct {
		MaxEventBytes yaml.Node `yaml:"maxEventBytes"`
	} `yaml:"inngest"`
	Public    map[string]any `yaml:"public"`
	APITokens []fileToken    `yaml:"apiTokens"`
	Events    struct {
		Disabled []string `yaml:"disabled"`
	} `yaml:"events"`
}

// The sections of file that fromFile's steps read. They are aliases of
// unnamed struct types, not named types, so that yaml.v3's type errors
// (which print the Go type) read as they always have.
type (
	fileRoute = struct {
		Enabled      *bool          `yaml:"enabled"`
		Event        *string        `yaml:"event"`
		MaxBodyBytes yaml.Node      `yaml:"maxBodyBytes"`
		RateLimit    *fileRateLimit `yaml:"rateLimit"`
	}
	fileRateLimit = struct {
		Requests yaml.Node `yaml:"requests"`
		Per      string    `yaml:"per"`
	}
	fileToken = struct {
		ID     string `yaml:"id"`
		Name   string `yaml:"name"`
		SHA256 string `yaml:"sha256"`
	}
)

// Parse reads settings from YAML, applies defaults and validates them.
// Unknown keys are errors, so a typo does not silently change nothing.
// Without a catalogue to check them against, the names of events.disabled
// are checked only as Inngest event names (ParseFor checks them against
// the catalogue).
func Parse(data []byte) (Settings, error) {
	return ParseFor(data, nil)
}

// ParseFor is Parse for a service whose POST /api/events takes the events
// named in catalogue (the contract's discriminator mapping, from
// api.CatalogueNames): every name in events.disabled must be one of them,
// and route.event must be none of them (the route's event keeps its own
// shape, RouteEvent). A nil catalogue checks neither.
func ParseFor(data []byte, catalogue []string) (Settings, error) {
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
	if err == nil && catalogue != nil {
		err = s.validateCatalogue(catalogue)
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

// fromFile applies the defaults to what the file says. The sizes are read in
// order, because the default body size depends on the event size.
func fromFile(f file) (Settings, error) {
	s := Settings{
		Route:  routeFromFile(f.Route),
		Public: f.Public,
	}
	if s.Public == nil {
		s.Public = map[string]any{}
	}
	for _, name := range f.Events.Disabled {
		s.Events.Disabled = append(s.Events.Disabled, strings.TrimSpace(name))
	}
	var err error
	if s.Inngest.MaxEventBytes, err = wholeNumberOr("inngest.maxEventBytes", &f.Inngest.MaxEventBytes, DefaultMaxEventBytes); err != nil {
		return Settings{}, err
	}
	if s.Route.MaxBodyBytes, err = wholeNumberOr("route.maxBodyBytes", &f.Route.MaxBodyBytes, min(DefaultMaxBodyBytes, MaxBodyFor(s))); err != nil {
		return Settings{}, err
	}
	if s.Route.RateLimit, err = rateLimitFromFile(f.Route.RateLimit); err != nil {
		return Settings{}, err
	}
	if s.APITokens, err = tokensFromFile(f.APITokens); err != nil {
		return Settings{}, err
	}
	return s, nil
}

// routeFromFile applies the defaults to the route's switch and event name.
func routeFromFile(r fileRoute) Route {
	route := Route{Enabled: true, Event: DefaultEvent, MaxBodyBytes: DefaultMaxBodyBytes}
	if r.Enabled != nil {
		route.Enabled = *r.Enabled
	}
	if r.Event != nil {
		route.Event = strings.TrimSpace(*r.Event)
	}
	return route
}

// wholeNumberOr is wholeNumber with def for a number left out.
func wholeNumberOr(key string, n *yaml.Node, def int64) (int64, error) {
	v, err := wholeNumber(key, n)
	if err != nil || v == nil {
		return def, err
	}
	return *v, nil
}

// rateLimitFromFile parses route.rateLimit; nil when the file has none.
func rateLimitFromFile(rl *fileRateLimit) (*RateLimit, error) {
	if rl == nil {
		return nil, nil
	}
	per, err := time.ParseDuration(rl.Per)
	if err != nil {
		return nil, fieldErr("route.rateLimit.per", "want a duration such as 1m, got %q", rl.Per)
	}
	requests, err := wholeNumber("route.rateLimit.requests", &rl.Requests)
	if err != nil {
		return nil, err
	}
	limit := &RateLimit{Per: per}
	if requests != nil { // left out: 0, which Validate refuses
		limit.Requests = int(*requests)
	}
	return limit, nil
}

// tokensFromFile parses the apiTokens entries' hashes and trims their identities.
func tokensFromFile(tokens []fileToken) ([]apitoken.Entry, error) {
	var entries []apitoken.Entry
	for i, t := range tokens {
		h, err := apitoken.ParseHash(strings.TrimSpace(t.SHA256))
		if err != nil {
			return nil, fieldErr(fmt.Sprintf("apiTokens[%d].sha256", i), "%v", err)
		}
		entries = append(entries, apitoken.Entry{
			Identity: apitoken.Identity{ID: strings.TrimSpace(t.ID), Name: strings.TrimSpace(t.Name)}, Hash: h})
	}
	return entries, nil
}
