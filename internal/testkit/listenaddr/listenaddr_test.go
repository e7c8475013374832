package listenaddr

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"
)

func TestFromLogJSONAndText(t *testing.T) {
	for _, newHandler := range map[string]func(*bytes.Buffer) slog.Handler{
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
	} {
		var b bytes.Buffer
		log := slog.New(newHandler(&b))
		b.WriteString("not a log line\n")
		log.Info("starting", "addr", "127.0.0.1:1")
		if got := FromLog(b.String()); got != "" {
			t.Errorf("before the listening record: %q", got)
		}
		log.Info("listening", "addr", "127.0.0.1:4317", "inngest", "http://127.0.0.1:8288")
		log.Info("listening", "addr", "127.0.0.1:9999")
		if got := FromLog(b.String()); got != "127.0.0.1:4317" {
			t.Errorf("FromLog(%q) = %q, want the first listening record's addr", b.String(), got)
		}
	}
	if got := FromLog(`{"msg":"listening","addr":"127.0.0.1:5`); got != "" {
		t.Errorf("partly written line: %q", got)
	}
	if got := FromLog(`time=x level=INFO msg="listening" addr="[::1]:80"` + "\n"); got != "[::1]:80" {
		t.Errorf("quoted text values: %q", got)
	}
}

// hexWords prints a as /proc/net/tcp does: each 32-bit word of the
// network-order bytes read as a native integer, %08X.
func hexWords(a netip.Addr) string {
	b := a.AsSlice()
	var s strings.Builder
	for i := 0; i < len(b); i += 4 {
		fmt.Fprintf(&s, "%08X", binary.NativeEndian.Uint32(b[i:i+4]))
	}
	return s.String()
}

func TestListeningRows(t *testing.T) {
	v4 := netip.MustParseAddrPort("127.0.0.1:8080")
	v6 := netip.MustParseAddrPort("[::1]:443")
	mapped := netip.MustParseAddrPort("[::ffff:127.0.0.2]:80")
	row := func(ap netip.AddrPort, st, inode string) string {
		return fmt.Sprintf("   0: %s:%04X 00000000:0000 %s 00000000:00000000 00:00000000 00000000     0        0 %s 1 0000000000000000 100 0 0 10 0\n",
			hexWords(ap.Addr()), ap.Port(), st, inode)
	}
	table := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
		row(v4, "0A", "11") + row(v4, "01", "12") + row(v6, "0A", "13") + row(mapped, "0A", "14") + row(v4, "0A", "99")
	got := listeningRows(table, map[string]bool{"11": true, "12": true, "13": true, "14": true})
	want := []netip.AddrPort{v4, v6, netip.MustParseAddrPort("127.0.0.2:80")}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v (listening rows of our inodes only)", got, want)
	}
	// The kernel's own text on a little-endian host, for the record.
	if binary.NativeEndian.Uint16([]byte{1, 0}) == 1 {
		if ap, ok := parseLocal("0100007F:1F90"); !ok || ap != v4 {
			t.Errorf("parseLocal(0100007F:1F90) = %v, %v", ap, ok)
		}
	}
	for _, bad := range []string{"", "0100007F", "0100007:1F90", "0100007F:XYZ", "0100007F:10000", "ZZ00007F:0050"} {
		if ap, ok := parseLocal(bad); ok {
			t.Errorf("parseLocal(%q) = %v, want no address", bad, ap)
		}
	}
}

func TestListeningAndHoldsOnThisProcess(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	aps, err := Listening(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if len(aps) != 1 || aps[0].String() != addr {
		t.Errorf("Listening = %v, want [%s]", aps, addr)
	}
	if ok, err := Holds(os.Getpid(), addr); err != nil || !ok {
		t.Errorf("Holds(own listener) = %v, %v", ok, err)
	}
	// A connected socket, not a listening one, is not counted.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ok, err := Holds(os.Getpid(), c.LocalAddr().String()); err != nil || ok {
		t.Errorf("Holds(a connection's local address) = %v, %v", ok, err)
	}
	if ln6, err := net.Listen("tcp", "[::1]:0"); err == nil { // when the host has IPv6
		defer ln6.Close()
		if ok, err := Holds(os.Getpid(), ln6.Addr().String()); err != nil || !ok {
			t.Errorf("Holds(IPv6 listener) = %v, %v", ok, err)
		}
	}
	if _, err := Holds(os.Getpid(), "localhost:80"); err == nil {
		t.Error("Holds accepted a host name")
	}
	if _, err := Listening(-1); err == nil {
		t.Error("Listening(-1): no error")
	}
}

func TestWait(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// From the log, for a server in this process.
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("listening", "addr", "127.0.0.1:4317")
	got, err := Wait(ctx, Source{Logs: logs.String})
	if err != nil || got != "127.0.0.1:4317" {
		t.Errorf("Wait(log) = %q, %v", got, err)
	}
	// From /proc, when the log does not tell (a warn log level).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got, err = Wait(ctx, Source{PID: os.Getpid(), Logs: func() string { return "" }})
	if err != nil || got != ln.Addr().String() {
		t.Errorf("Wait(proc) = %q, %v, want %s", got, err, ln.Addr())
	}
	// An exited server.
	if _, err := Wait(ctx, Source{Logs: func() string { return "" }, Exited: func() bool { return true }}); !errors.Is(err, ErrExited) {
		t.Errorf("exited: %v", err)
	}
	// No answer within the context.
	short, cancelShort := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancelShort()
	if _, err := Wait(short, Source{Logs: func() string { return "" }}); err == nil {
		t.Error("no address and no error")
	}
}
