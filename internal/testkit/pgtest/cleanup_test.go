package pgtest

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestCleanupStopsAServerItDoesNotKnowOf: when a start timed out while the
// postmaster still came up, s.running is false; Cleanup must stop that
// postmaster anyway before it removes the data directory under it.
func TestCleanupStopsAServerItDoesNotKnowOf(t *testing.T) {
	var pid int
	t.Run("server", func(t *testing.T) {
		s := Start(t)
		b, err := os.ReadFile(filepath.Join(s.dataDir(), "postmaster.pid"))
		if err != nil {
			t.Fatal(err)
		}
		pid, err = strconv.Atoi(string(bytes.SplitN(b, []byte("\n"), 2)[0]))
		if err != nil {
			t.Fatalf("postmaster.pid: %v", err)
		}
		s.mu.Lock()
		s.running = false // as after pg_ctl start -w -t 30 timed out
		s.mu.Unlock()
	})
	if pid == 0 {
		t.Fatal("no postmaster pid")
	}
	if alive(pid) {
		t.Fatalf("postmaster %d still runs after Cleanup", pid)
	}
}

// alive reports whether process pid exists and is not a zombie (a daemon
// whose parent in a container may never reap it).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the ")" that ends the command name.
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}
