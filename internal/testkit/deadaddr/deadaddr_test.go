package deadaddr

import (
	"errors"
	"net"
	"syscall"
	"testing"
	"time"
)

// TestReserveRefusesAndKeepsThePort: a connection is refused, and neither a
// Go listener (SO_REUSEADDR) nor a plain bind can take the port meanwhile.
func TestReserveRefusesAndKeepsThePort(t *testing.T) {
	addr := Reserve(t)
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err == nil {
		c.Close()
		t.Fatalf("dial %s: connected, want connection refused", addr)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial %s: %v, want connection refused", addr, err)
	}
	if ln, err := net.Listen("tcp", addr); err == nil {
		ln.Close()
		t.Errorf("net.Listen took the reserved port %s", addr)
	} else if !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("net.Listen(%s): %v, want address in use", addr, err)
	}
}
