package fakeclock_test

import (
	"sync"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/testkit/fakeclock"
)

// TestAdvance: the clock stands still until advanced, and reads from other
// goroutines while it moves are safe (run with -race).
func TestAdvance(t *testing.T) {
	t0 := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	c := fakeclock.New(t0)
	if got := c.Now(); !got.Equal(t0) {
		t.Fatalf("Now = %s, want %s", got, t0)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 100 {
				_ = c.Now()
			}
		})
	}
	for range 100 {
		c.Advance(time.Second)
	}
	wg.Wait()
	c.Advance(-10 * time.Second)
	if got, want := c.Now(), t0.Add(90*time.Second); !got.Equal(want) {
		t.Errorf("Now = %s, want %s", got, want)
	}
}
