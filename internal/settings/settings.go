// Package settings loads the app settings file (YAML), keeps the last good
// version, and reloads it when the file changes or on request (SIGHUP).
package settings

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Defaults applied when the file leaves a value out.
const (
	DefaultEvent = "app/route.requested"
	// DefaultMaxBodyBytes is Inngest's free-plan event size limit (256 KiB).
	DefaultMaxBodyBytes = 256 << 10
	// MaxMaxBodyBytes is the largest event the Inngest server accepts (3 MiB).
	MaxMaxBodyBytes = 3 << 20
	maxEventNameLen = 255
)

// Settings are the app settings the route reads on every request.
type Settings struct {
	Route Route
	// Public is forwarded in every event as data.settings. Never put secrets here.
	Public map[string]any
}

// Route configures POST /api/route.
type Route struct {
	// Enabled switches the route on or off (off: 503 with Retry-After).
	Enabled bool
	// Event is the name of the event published to Inngest.
	Event string
	// MaxBodyBytes is the largest request body accepted (413 above).
	MaxBodyBytes int64
}

// file is the YAML shape; pointers tell "left out" from "zero".
type file struct {
	Route struct {
		Enabled      *bool   `yaml:"enabled"`
		Event        *string `yaml:"event"`
		MaxBodyBytes *int64  `yaml:"maxBodyBytes"`
	} `yaml:"route"`
	Public map[string]any `yaml:"public"`
}

// Parse reads settings from YAML, applies defaults and validates them.
// Unknown keys are errors, so a typo does not silently change nothing.
func Parse(data []byte) (Settings, error) {
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return Settings{}, fmt.Errorf("parse settings: %w", err)
	}
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
	if err := s.Validate(); err != nil {
		return Settings{}, err
	}
	return s, nil
}

// Validate reports the first problem that would make the settings unusable.
func (s Settings) Validate() error {
	switch ev := s.Route.Event; {
	case ev == "":
		return errors.New("settings: route.event: must not be empty")
	case len(ev) > maxEventNameLen:
		return fmt.Errorf("settings: route.event: longer than %d characters", maxEventNameLen)
	case strings.HasPrefix(ev, "inngest/"):
		return errors.New("settings: route.event: names starting with inngest/ are reserved by Inngest")
	}
	if n := s.Route.MaxBodyBytes; n < 1 || n > MaxMaxBodyBytes {
		return fmt.Errorf("settings: route.maxBodyBytes: want 1 to %d (Inngest's largest event), got %d", MaxMaxBodyBytes, n)
	}
	if _, err := json.Marshal(s.Public); err != nil {
		return fmt.Errorf("settings: public: not representable as JSON: %w", err)
	}
	return nil
}
