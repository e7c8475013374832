package logbuf_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/routeapi/routeapi/internal/testkit/logbuf"
)

// TestConcurrentWrites: lines written from many goroutines all arrive whole,
// and reads between writes are safe (run with -race).
func TestConcurrentWrites(t *testing.T) {
	var b logbuf.Buffer
	const writers, lines = 8, 100
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range lines {
				_, _ = b.Write([]byte("line\n"))
				_ = b.Len()
				_ = b.String()
			}
		})
	}
	wg.Wait()
	if got, want := strings.Count(b.String(), "line\n"), writers*lines; got != want {
		t.Errorf("%d lines, want %d", got, want)
	}
	if got, want := b.Len(), writers*lines*len("line\n"); got != want {
		t.Errorf("Len %d, want %d", got, want)
	}
}
