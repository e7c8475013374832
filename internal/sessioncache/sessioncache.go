// Package sessioncache keeps resolved sessions (decoded JWTs, database
// rows) in process for a short time, so that a busy caller's token is
// decrypted or looked up once per TTL instead of once per request.
//
// Only successful resolutions are cached: a token that fails (malformed,
// tampered, expired, not yet valid) is decoded again on every request and
// never served from the cache. An entry is keyed by the credential's source
// and cookie name and a SHA-256 hash of the whole token (the token itself is
// not kept), and expires after the TTL or at the token's exp, whichever is
// first. The cache holds at most a fixed number of entries.
package sessioncache

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"time"

	"github.com/routeapi/routeapi/internal/session"
)

// DefaultMaxEntries bounds the cache when Config.MaxEntries is 0.
const DefaultMaxEntries = 4096

// Resolver turns a credential into a valid session (api.SessionResolver).
type Resolver interface {
	Resolve(ctx context.Context, c session.Credential) (session.Session, error)
}

// Config configures New.
type Config struct {
	// TTL is how long a resolved session is served from the cache (never
	// past its ExpiresAt). 0 or less turns the cache off.
	TTL time.Duration
	// MaxEntries bounds the number of cached sessions; 0 means DefaultMaxEntries.
	MaxEntries int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Cache is a Resolver that caches the sessions another Resolver resolves.
// It is safe for concurrent use. Cached sessions are shared between
// requests: their Claims must be treated as read-only.
type Cache struct {
	next Resolver
	ttl  time.Duration
	max  int
	now  func() time.Time

	mu      sync.Mutex
	entries map[key]entry
}

type entry struct {
	s     session.Session
	until time.Time
}

// New returns a Cache in front of next.
func New(next Resolver, cfg Config) (*Cache, error) {
	if next == nil {
		return nil, errors.New("session cache: no resolver")
	}
	c := &Cache{next: next, ttl: cfg.TTL, max: cfg.MaxEntries, now: cfg.Now, entries: map[key]entry{}}
	if c.max <= 0 {
		c.max = DefaultMaxEntries
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// Resolve returns the cached session for c when there is a fresh one, else
// resolves c with the wrapped resolver and caches a success.
func (c *Cache) Resolve(ctx context.Context, cred session.Credential) (session.Session, error) {
	if c.ttl <= 0 {
		return c.next.Resolve(ctx, cred)
	}
	k := keyOf(cred)
	now := c.now()
	if s, ok := c.lookup(k, now); ok {
		return s, nil
	}
	s, err := c.next.Resolve(ctx, cred)
	if err != nil {
		return s, err
	}
	c.store(k, s, now)
	return s, nil
}

// key is what decides how a token is decoded: its source, its cookie name
// (Auth.js v5 derives the key from it) and the whole token, hashed.
type key struct {
	source session.Source
	cookie string
	token  [sha256.Size]byte
}

func keyOf(cred session.Credential) key {
	return key{source: cred.Source, cookie: cred.Cookie, token: sha256.Sum256([]byte(cred.Token))}
}

func (c *Cache) lookup(k key, now time.Time) (session.Session, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok {
		return session.Session{}, false
	}
	if !now.Before(e.until) {
		delete(c.entries, k)
		return session.Session{}, false
	}
	return e.s, true
}

// store caches s until the TTL ends or s expires, whichever is first; a
// session without an expiry, or already at or past it, is not cached.
func (c *Cache) store(k key, s session.Session, now time.Time) {
	if s.ExpiresAt.IsZero() {
		return
	}
	until := now.Add(c.ttl)
	if s.ExpiresAt.Before(until) {
		until = s.ExpiresAt
	}
	if !now.Before(until) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		for old, e := range c.entries {
			if !now.Before(e.until) {
				delete(c.entries, old)
			}
		}
		// Still full of fresh entries: start over rather than scan on every store.
		if len(c.entries) >= c.max {
			clear(c.entries)
		}
	}
	c.entries[k] = entry{s: s, until: until}
}
