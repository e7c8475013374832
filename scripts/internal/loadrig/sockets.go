package loadrig

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/routeapi/routeapi/internal/testkit/listenaddr"
)

// ListeningTree returns the one TCP address that pid and its descendants
// listen on (listenaddr.Listening of each process of Tree), or an error when
// there is none or more than one. A server that forks (`next start`) may
// hold its socket in a child.
func ListeningTree(pid int) (string, error) {
	tree, err := Tree(pid)
	if err != nil {
		return "", err
	}
	seen := map[string]bool{}
	var addrs []string
	for _, p := range tree {
		aps, err := listenaddr.Listening(p)
		if err != nil {
			continue // a process that ended meanwhile
		}
		for _, ap := range aps {
			if s := ap.String(); !seen[s] {
				seen[s] = true
				addrs = append(addrs, s)
			}
		}
	}
	if len(addrs) != 1 {
		return "", fmt.Errorf("the process tree of %d listens on %d addresses %v, want 1", pid, len(addrs), addrs)
	}
	return addrs[0], nil
}

// WaitListeningTree polls ListeningTree every 50 ms until the tree listens
// on one address, exited reports that the server ended, or ctx ends.
func WaitListeningTree(ctx context.Context, pid int, exited func() bool) (string, error) {
	for {
		if addr, err := ListeningTree(pid); err == nil {
			return addr, nil
		}
		if exited() {
			return "", errors.New("the server exited before listening")
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("no listening address yet: %w", context.Cause(ctx))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TCP states of /proc/net/tcp (include/net/tcp_states.h) in which the
// server has not closed its end of a connection: it may still be handling a
// request there.
const (
	tcpEstablished = "01"
	tcpCloseWait   = "08"
)

// OpenConns counts the connections on local port port that pid and its
// descendants hold open and have not closed: sockets in state ESTABLISHED or
// CLOSE_WAIT (the peer has gone, the server has not closed yet) whose inode
// one of the processes holds (/proc/<pid>/fd, /proc/<pid>/net/tcp and tcp6).
// An HTTP/1.1 server closes a connection only after the handler of the
// request on it has returned, so 0 once the client has closed all of its
// connections means every request has been answered and counted.
func OpenConns(pid, port int) (int, error) {
	tree, err := Tree(pid)
	if err != nil {
		return 0, err
	}
	inodes := map[string]bool{}
	for _, p := range tree {
		socketInodes(p, inodes)
	}
	n := 0
	for _, table := range []string{"tcp", "tcp6"} {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, table))
		if err != nil {
			if table == "tcp6" && errors.Is(err, os.ErrNotExist) {
				continue // IPv6 disabled in this kernel
			}
			return 0, fmt.Errorf("read the TCP table of %d: %w", pid, err)
		}
		n += openRows(string(b), port, inodes)
	}
	return n, nil
}

// socketInodes adds the inodes of pid's sockets (links "socket:[inode]" in
// /proc/<pid>/fd) to inodes; a process that has ended adds none.
func socketInodes(pid int, inodes map[string]bool) {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	fds, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, fd := range fds {
		link, err := os.Readlink(dir + "/" + fd.Name())
		if ino, ok := strings.CutPrefix(link, "socket:["); err == nil && ok {
			inodes[strings.TrimSuffix(ino, "]")] = true
		}
	}
}

// openRows counts the rows of a /proc/net/tcp or tcp6 table
//
//	sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode …
//
// whose local port is port, whose state is ESTABLISHED or CLOSE_WAIT and
// whose inode is in inodes.
func openRows(table string, port int, inodes map[string]bool) int {
	n := 0
	for line := range strings.Lines(table) {
		f := strings.Fields(line)
		if len(f) < 10 || (f[3] != tcpEstablished && f[3] != tcpCloseWait) || !inodes[f[9]] {
			continue
		}
		_, hexPort, ok := strings.Cut(f[1], ":")
		if p, err := strconv.ParseUint(hexPort, 16, 16); ok && err == nil && int(p) == port {
			n++
		}
	}
	return n
}

// WaitIdle waits, polling every 20 ms for up to within, until the server
// (pid and its descendants) holds no open connection on port (OpenConns):
// after the load generator has exited, every request it sent has then been
// answered. It fails when within passes first.
func WaitIdle(pid, port int, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		n, err := OpenConns(pid, port)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d connections still open on port %d after %s", n, port, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
