// Package fakeclock is the one clock a test injects into the code it tests
// (a `Now func() time.Time` field or option): it stands still until the test
// moves it, and is safe to read from the server's goroutines while the test
// moves it.
package fakeclock

import (
	"sync"
	"time"
)

// Clock is a settable time. Use New; a Clock must not be copied.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// New returns a Clock standing at t.
func New(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time; pass the method value (c.Now) as the injected clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock by d (a negative d moves it back).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
