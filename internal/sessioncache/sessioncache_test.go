package sessioncache_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/session"
	"github.com/routeapi/routeapi/internal/sessioncache"
)

// counting resolves from a table and counts the calls.
type counting struct {
	calls    int
	sessions map[string]session.Session
}

func (r *counting) Resolve(_ context.Context, c session.Credential) (session.Session, error) {
	r.calls++
	s, ok := r.sessions[c.Token]
	if !ok {
		return session.Session{}, fmt.Errorf("token %q: %w", c.Token, session.ErrInvalid)
	}
	return s, nil
}

var t0 = time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newCache(t *testing.T, next sessioncache.Resolver, ttl time.Duration, maxEntries int, clk *clock) *sessioncache.Cache {
	t.Helper()
	c, err := sessioncache.New(next, sessioncache.Config{TTL: ttl, MaxEntries: maxEntries, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func cookie(tok string) session.Credential {
	return session.Credential{Token: tok, Source: session.SourceCookie, Cookie: session.CookieName}
}

func TestCacheHitsWithinTTL(t *testing.T) {
	next := &counting{sessions: map[string]session.Session{"a": {Subject: "u1", ExpiresAt: t0.Add(time.Hour)}}}
	clk := &clock{t0}
	c := newCache(t, next, 5*time.Second, 0, clk)
	for range 3 {
		s, err := c.Resolve(context.Background(), cookie("a"))
		if err != nil || s.Subject != "u1" {
			t.Fatalf("Resolve = %+v, %v", s, err)
		}
	}
	if next.calls != 1 {
		t.Fatalf("wrapped resolver called %d times, want 1", next.calls)
	}
	clk.t = t0.Add(5 * time.Second) // the TTL is over
	if _, err := c.Resolve(context.Background(), cookie("a")); err != nil {
		t.Fatal(err)
	}
	if next.calls != 2 {
		t.Fatalf("after the TTL: wrapped resolver called %d times, want 2", next.calls)
	}
}

func TestCacheNeverPastExpiry(t *testing.T) {
	next := &counting{sessions: map[string]session.Session{"a": {Subject: "u1", ExpiresAt: t0.Add(2 * time.Second)}}}
	clk := &clock{t0}
	c := newCache(t, next, time.Minute, 0, clk)
	if _, err := c.Resolve(context.Background(), cookie("a")); err != nil {
		t.Fatal(err)
	}
	clk.t = t0.Add(2 * time.Second)
	// The token's exp has come: the cache must ask again (the wrapped resolver decides).
	delete(next.sessions, "a")
	if _, err := c.Resolve(context.Background(), cookie("a")); !errors.Is(err, session.ErrInvalid) {
		t.Fatalf("after exp: err = %v, want the wrapped resolver's error", err)
	}
	if next.calls != 2 {
		t.Fatalf("wrapped resolver called %d times, want 2", next.calls)
	}
}

func TestCacheDoesNotCacheFailuresOrUnexpiring(t *testing.T) {
	next := &counting{sessions: map[string]session.Session{"noexp": {Subject: "u1"}}}
	clk := &clock{t0}
	c := newCache(t, next, time.Minute, 0, clk)
	for range 2 {
		if _, err := c.Resolve(context.Background(), cookie("bad")); !errors.Is(err, session.ErrInvalid) {
			t.Fatalf("err = %v, want ErrInvalid", err)
		}
		if _, err := c.Resolve(context.Background(), cookie("noexp")); err != nil {
			t.Fatal(err)
		}
	}
	if next.calls != 4 || c.Len() != 0 {
		t.Fatalf("calls %d, entries %d; want 4 calls and nothing cached", next.calls, c.Len())
	}
}

func TestCacheKeyIncludesSourceAndCookie(t *testing.T) {
	next := &counting{sessions: map[string]session.Session{"a": {Subject: "u1", ExpiresAt: t0.Add(time.Hour)}}}
	clk := &clock{t0}
	c := newCache(t, next, time.Minute, 0, clk)
	creds := []session.Credential{
		cookie("a"),
		{Token: "a", Source: session.SourceCookie, Cookie: session.V5CookieName},
		{Token: "a", Source: session.SourceBearer},
	}
	for _, cr := range creds {
		if _, err := c.Resolve(context.Background(), cr); err != nil {
			t.Fatal(err)
		}
	}
	if next.calls != len(creds) {
		t.Fatalf("wrapped resolver called %d times, want %d (one per source/cookie)", next.calls, len(creds))
	}
}

func TestCacheBounded(t *testing.T) {
	next := &counting{sessions: map[string]session.Session{}}
	for i := range 100 {
		next.sessions[fmt.Sprint(i)] = session.Session{Subject: fmt.Sprint(i), ExpiresAt: t0.Add(time.Hour)}
	}
	clk := &clock{t0}
	c := newCache(t, next, time.Minute, 10, clk)
	for i := range 100 {
		s, err := c.Resolve(context.Background(), cookie(fmt.Sprint(i)))
		if err != nil || s.Subject != fmt.Sprint(i) {
			t.Fatalf("Resolve(%d) = %+v, %v", i, s, err)
		}
		if c.Len() > 10 {
			t.Fatalf("%d entries, want at most 10", c.Len())
		}
	}
}

func TestCacheOff(t *testing.T) {
	next := &counting{sessions: map[string]session.Session{"a": {Subject: "u1", ExpiresAt: t0.Add(time.Hour)}}}
	c := newCache(t, next, 0, 0, &clock{t0})
	for range 2 {
		if _, err := c.Resolve(context.Background(), cookie("a")); err != nil {
			t.Fatal(err)
		}
	}
	if next.calls != 2 {
		t.Fatalf("TTL 0: wrapped resolver called %d times, want 2", next.calls)
	}
}

// TestCacheRealTokens runs real next-auth v4 tokens through the cache: a
// tampered token is refused even after the genuine one is cached.
func TestCacheRealTokens(t *testing.T) {
	const secret = "cache-secret"
	tok, err := session.Encode(secret, map[string]any{"sub": "u1"}, time.Hour, t0)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t0}
	jr, err := session.NewJWT(session.JWTConfig{Format: session.FormatV4, V4Secret: secret, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	c := newCache(t, jr, time.Minute, 0, clk)
	if s, err := c.Resolve(context.Background(), cookie(tok)); err != nil || s.Subject != "u1" {
		t.Fatalf("Resolve = %+v, %v", s, err)
	}
	tampered := tok[:len(tok)-2] + "AA"
	if tampered == tok {
		tampered = tok[:len(tok)-2] + "BB"
	}
	if _, err := c.Resolve(context.Background(), cookie(tampered)); err == nil {
		t.Fatal("a tampered token resolved")
	}
}

// BenchmarkResolveCached measures a cache hit for a next-auth v4 cookie
// (compare session.BenchmarkDecode, the decode it saves).
func BenchmarkResolveCached(b *testing.B) {
	const secret = "bench-secret"
	tok, err := session.Encode(secret, map[string]any{"sub": "u1", "email": "u1@example.com", "name": "U One"}, time.Hour, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	jr, err := session.NewJWT(session.JWTConfig{Format: session.FormatV4, V4Secret: secret})
	if err != nil {
		b.Fatal(err)
	}
	c, err := sessioncache.New(jr, sessioncache.Config{TTL: 5 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Resolve(context.Background(), cookie(tok)); err != nil {
			b.Fatal(err)
		}
	}
}
