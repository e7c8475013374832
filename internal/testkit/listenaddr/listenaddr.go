// Package listenaddr tells which TCP address a server under test bound, so
// that tests start their servers on port 0 (the kernel picks a free port and
// the server holds it from that moment) instead of picking a "free" port,
// closing it and handing the number to the server: on a shared machine
// another process can take the port in between, and a readiness probe may
// then even get its 200 from someone else's server.
//
// Two sources tell the address: the server's own "listening" log record
// (FromLog, routeapi's and the load scripts' no-op server's), and, on Linux,
// the listening sockets the process holds (Listening, read from /proc). Wait
// polls both until one answers.
package listenaddr

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// FromLog returns the addr attribute of the first record whose message is
// "listening" in logs, as log/slog's JSON handler writes it
// ({"msg":"listening","addr":"127.0.0.1:4317",…}) or its text handler
// (msg=listening addr=127.0.0.1:4317 …), or "" when there is none (yet).
// Other lines (a child's non-log output, a partly written last line) are
// skipped.
func FromLog(logs string) string {
	for line := range strings.Lines(logs) {
		if addr := jsonRecord(line); addr != "" {
			return addr
		}
		if addr := textRecord(line); addr != "" {
			return addr
		}
	}
	return ""
}

func jsonRecord(line string) string {
	var r struct{ Msg, Addr string }
	if json.Unmarshal([]byte(line), &r) == nil && r.Msg == "listening" {
		return r.Addr
	}
	return ""
}

// textRecord reads slog's text format: key=value pairs separated by spaces, a
// value quoted (strconv.Quote) when it holds a space, '=', '"' or a
// non-printing character. Only unquoted msg and addr values, and quoted ones
// without inner spaces, are needed here: "listening" and a host:port never
// hold a space.
func textRecord(line string) string {
	var msg, addr string
	for field := range strings.FieldsSeq(line) {
		k, v, ok := strings.Cut(field, "=")
		if !ok {
			continue
		}
		if u, err := strconv.Unquote(v); err == nil {
			v = u
		}
		switch k {
		case "msg":
			msg = v
		case "addr":
			addr = v
		}
	}
	if msg == "listening" {
		return addr
	}
	return ""
}

// ErrUnsupported is returned by Listening off Linux, where there is no
// /proc/<pid>/net/tcp to read.
var ErrUnsupported = errors.New("listenaddr: reading a process's sockets needs Linux /proc")

// Listening returns the addresses of the listening TCP sockets (IPv4 and
// IPv6) that process pid holds open.
//
// Linux only (ErrUnsupported elsewhere). It reads the socket inodes of the
// process's descriptors (/proc/<pid>/fd/* links "socket:[inode]") and keeps
// the rows of /proc/<pid>/net/tcp and tcp6 (the tables of the process's
// network namespace, see proc(5)) in state 0A (TCP_LISTEN) whose inode is one
// of them. A process that exits meanwhile yields an error or fewer
// addresses, never another process's.
//
// Byte order: the kernel prints the local address as the 32-bit words of the
// network-order address bytes, each read as a native integer and printed
// with %08X (one word for IPv4, four for IPv6), so each word is parsed and
// written back in the host's own byte order (binary.NativeEndian), which is
// the kernel's: correct on little- and big-endian hosts alike. The port is
// printed after ntohs, as a plain number.
func Listening(pid int) ([]netip.AddrPort, error) {
	if runtime.GOOS != "linux" {
		return nil, ErrUnsupported
	}
	fdDir := fmt.Sprintf("/proc/%d/fd", pid)
	fds, err := os.ReadDir(fdDir)
	if err != nil {
		return nil, fmt.Errorf("listenaddr: list the descriptors of process %d: %w", pid, err)
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(fdDir + "/" + fd.Name())
		if ino, ok := strings.CutPrefix(link, "socket:["); err == nil && ok {
			inodes[strings.TrimSuffix(ino, "]")] = true
		}
	}
	var out []netip.AddrPort
	for _, table := range []string{"tcp", "tcp6"} {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, table))
		if err != nil {
			if table == "tcp6" && errors.Is(err, os.ErrNotExist) {
				continue // IPv6 disabled in this kernel
			}
			return nil, fmt.Errorf("listenaddr: read the TCP table of process %d: %w", pid, err)
		}
		out = append(out, listeningRows(string(b), inodes)...)
	}
	return out, nil
}

// listeningRows parses a /proc/net/tcp or tcp6 table:
//
//	sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode …
//
// and returns the local addresses of the rows in state 0A (TCP_LISTEN) whose
// inode is in inodes.
func listeningRows(table string, inodes map[string]bool) []netip.AddrPort {
	var out []netip.AddrPort
	for line := range strings.Lines(table) {
		f := strings.Fields(line)
		if len(f) < 10 || f[3] != "0A" || !inodes[f[9]] {
			continue
		}
		if ap, ok := parseLocal(f[1]); ok {
			out = append(out, ap)
		}
	}
	return out
}

// parseLocal reads "0100007F:1F90" (IPv4) or 32 hex digits and a port (IPv6).
func parseLocal(s string) (netip.AddrPort, bool) {
	hexIP, hexPort, ok := strings.Cut(s, ":")
	if !ok || (len(hexIP) != 8 && len(hexIP) != 32) {
		return netip.AddrPort{}, false
	}
	port, err := strconv.ParseUint(hexPort, 16, 16)
	if err != nil {
		return netip.AddrPort{}, false
	}
	raw := make([]byte, 0, 16)
	for i := 0; i < len(hexIP); i += 8 {
		w, err := strconv.ParseUint(hexIP[i:i+8], 16, 32)
		if err != nil {
			return netip.AddrPort{}, false
		}
		raw = binary.NativeEndian.AppendUint32(raw, uint32(w))
	}
	a, _ := netip.AddrFromSlice(raw)
	return netip.AddrPortFrom(a.Unmap(), uint16(port)), true
}

// Holds reports whether process pid holds a listening TCP socket on addr
// (host:port): that a server we started, not another process, owns the port
// we gave it. Linux only, as Listening.
func Holds(pid int, addr string) (bool, error) {
	want, err := netip.ParseAddrPort(addr)
	if err != nil {
		return false, fmt.Errorf("listenaddr: %w", err)
	}
	got, err := Listening(pid)
	if err != nil {
		return false, err
	}
	for _, ap := range got {
		if ap == want {
			return true, nil
		}
	}
	return false, nil
}

// Source is the server Wait watches.
type Source struct {
	// PID is the server's process id; 0 for a server in the test's own
	// process, whose sockets are not looked up.
	PID int
	// Logs returns what the server has written so far (its log, where the
	// "listening" record appears).
	Logs func() string
	// Exited reports whether the server has ended (it then never listens).
	// Nil means never.
	Exited func() bool
}

// ErrExited is returned by Wait when the server ended before it told its
// address.
var ErrExited = errors.New("listenaddr: the server exited before listening")

// Wait polls every 20 ms until src tells the address it listens on and
// returns it as host:port. On each poll it reads the "listening" log record
// (FromLog), which works at any log level that shows info records, and then,
// when src.PID is set, the process's listening sockets, which works at any log
// level but only when the process holds exactly one (on Linux). It fails when
// the server exits first or ctx ends.
func Wait(ctx context.Context, src Source) (string, error) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if src.Logs != nil {
			if addr := FromLog(src.Logs()); addr != "" {
				return addr, nil
			}
		}
		if src.PID != 0 {
			if aps, err := Listening(src.PID); err == nil && len(aps) == 1 {
				return aps[0].String(), nil
			}
		}
		if src.Exited != nil && src.Exited() {
			// One last look: the record may have been written just before the end.
			if src.Logs != nil {
				if addr := FromLog(src.Logs()); addr != "" {
					return addr, nil
				}
			}
			return "", ErrExited
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("listenaddr: no listening address yet: %w", context.Cause(ctx))
		case <-tick.C:
		}
	}
}
