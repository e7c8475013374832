package pgtest

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
)

// TestStartRetriesATakenPort: when another process holds the port picked for
// the server (as can happen between the pick and the bind), Start sees the
// server fail to bind and starts it on a new port, whose URL works.
func TestStartRetriesATakenPort(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	taken := held.Addr().(*net.TCPAddr).Port
	picks := 0
	pickPort = func(tb testing.TB) int {
		picks++
		if picks == 1 {
			return taken
		}
		return freePort(tb)
	}
	t.Cleanup(func() { pickPort = freePort })

	s := Start(t)
	if picks != 2 || s.Port == taken {
		t.Fatalf("picks = %d, port = %d (taken: %d): want a second pick", picks, s.Port, taken)
	}
	if !strings.Contains(s.URL, ":"+strconv.Itoa(s.Port)+"/") {
		t.Errorf("URL %s does not name port %d", s.URL, s.Port)
	}
	var one int
	if err := Connect(t, s.URL).QueryRow(context.Background(), "select 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("query on the second port: %v", err)
	}
}
