package settings

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// ErrUnavailable means no valid settings have been loaded yet.
var ErrUnavailable = errors.New("settings unavailable")

// Store holds the current settings loaded from a file. It keeps the last good
// settings when a reload fails. It is safe for concurrent use.
type Store struct {
	path string
	log  *slog.Logger

	current atomic.Pointer[Settings]

	mu       sync.Mutex // serialises reloads
	lastSeen [sha256.Size]byte
	seen     bool
	lastErr  string
	now      func() time.Time
	state    State // guarded by mu
	// catalogue are the event names POST /api/events takes (ParseFor); nil: not checked.
	catalogue []string
}

// State is what the store has loaded and what went wrong since, for
// /readyz and the metrics.
type State struct {
	// Path is the settings file.
	Path string
	// LoadedAt is when the settings in force were loaded; zero when none has.
	LoadedAt time.Time
	// LastError is why the last load failed (key, line and reason), or ""
	// when the last load succeeded. While it is set, the settings loaded at
	// LoadedAt (if any) stay in force.
	LastError string
	// LastErrorAt is when LastError happened.
	LastErrorAt time.Time
	// Failures counts failed loads since start (a broken file polled again
	// unchanged counts once).
	Failures uint64
}

// NewStore returns a store for the file at path. Nothing is read until Reload.
func NewStore(path string, log *slog.Logger) *Store {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Store{path: path, log: log, now: time.Now}
}

// WithClock makes the store take the load times from now; for tests.
func (s *Store) WithClock(now func() time.Time) *Store {
	s.now = now
	return s
}

// WithCatalogue makes the store check the file against the event names of
// POST /api/events (see ParseFor); call it before the first Reload.
func (s *Store) WithCatalogue(names []string) *Store {
	s.catalogue = slices.Clone(names)
	return s
}

// State reports what is loaded and the last failure.
func (s *Store) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.state
	st.Path = s.path
	return st
}

// Current returns the settings in force, or ErrUnavailable when none has ever loaded.
func (s *Store) Current() (Settings, error) {
	p := s.current.Load()
	if p == nil {
		return Settings{}, ErrUnavailable
	}
	return *p, nil
}

// Reload reads and validates the file now. On success the new settings take
// effect; on failure the last good settings stay and the error says why.
func (s *Store) Reload() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	data, err := os.ReadFile(s.path)
	if err != nil {
		return s.failed(fmt.Errorf("read settings %s: %w", s.path, err))
	}
	s.lastSeen, s.seen = sha256.Sum256(data), true
	next, err := ParseFor(data, s.catalogue)
	if err != nil {
		return s.failed(fmt.Errorf("%s: %w", s.path, err))
	}
	s.current.Store(&next)
	s.lastErr = ""
	s.state.LoadedAt, s.state.LastError, s.state.LastErrorAt = s.now(), "", time.Time{}
	s.log.Info("settings loaded", "path", s.path, "route_enabled", next.Route.Enabled,
		"event", next.Route.Event, "max_body_bytes", next.Route.MaxBodyBytes,
		"rate_limit", rateLimitString(next.Route.RateLimit), "api_tokens", len(next.APITokens),
		"events_disabled", next.Events.Disabled)
	return nil
}

// failed logs a failed load (once per distinct error) and returns err.
func (s *Store) failed(err error) error {
	if msg := err.Error(); msg != s.lastErr {
		s.lastErr = msg
		s.state.LastError, s.state.LastErrorAt = msg, s.now()
		s.state.Failures++
		if s.current.Load() != nil {
			s.log.Error("settings reload failed; keeping the last good settings", "err", msg)
		} else {
			s.log.Error("settings unavailable; the route answers 503 until the file is fixed", "err", msg)
		}
	}
	return err
}

// Watch polls the file every interval until ctx ends and reloads it when its
// content changes (or while no good settings have loaded). Polling the
// content works the same for editors that replace the file, for Kubernetes
// ConfigMap symlink swaps and for network file systems.
func (s *Store) Watch(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if s.changed() {
				_ = s.Reload() // failures are logged by Reload
			}
		}
	}
}

// changed reports whether the file differs from what was last read.
func (s *Store) changed() bool {
	data, err := os.ReadFile(s.path)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		return true // let Reload report it (once per distinct error)
	}
	sum := sha256.Sum256(data)
	return !s.seen || !bytes.Equal(sum[:], s.lastSeen[:])
}

func rateLimitString(rl *RateLimit) string {
	if rl == nil {
		return "off"
	}
	return fmt.Sprintf("%d per %s", rl.Requests, rl.Per)
}
