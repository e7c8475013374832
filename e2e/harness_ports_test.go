package e2e

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/testkit/listenaddr"
)

// TestStartInngestOnATakenPort: when another process already serves the
// picked port (and even answers /health with 200, as another dev server
// would), startInngest does not take that server for its own: it starts the
// dev server on a new port, which the dev server itself holds.
func TestStartInngestOnATakenPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	other := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})}
	go func() { _ = other.Serve(ln) }()
	t.Cleanup(func() { _ = other.Close() })
	taken := ln.Addr().String()
	if !answers200("http://" + taken + "/health") {
		t.Fatal("the stand-in for another process's server does not answer /health with 200")
	}

	picks := 0
	inngestAddr = func(t *testing.T) string {
		picks++
		if picks == 1 {
			return taken
		}
		return freeAddr(t)
	}
	t.Cleanup(func() { inngestAddr = freeAddr })

	d := startInngest(t)
	if picks != 2 || strings.HasSuffix(d.URL, taken) {
		t.Fatalf("picks = %d, URL = %s (taken: %s): want the dev server on a second port", picks, d.URL, taken)
	}
	addr := strings.TrimPrefix(d.URL, "http://")
	if ok, err := listenaddr.Holds(d.proc.cmd.Process.Pid, addr); err != nil || !ok {
		t.Errorf("the dev server does not hold %s: %v", addr, err)
	}
	if got := d.events(t, "e2e/none"); len(got) != 0 {
		t.Errorf("a fresh dev server lists events: %v", got)
	}
}
