// Package deadaddr gives tests a loopback TCP address that refuses
// connections for as long as the test runs: a stand-in for a stopped server.
//
// Picking a free port and closing it leaves the port to whoever binds it
// next, and on a shared machine that may be another test's server, which
// would then answer. Reserve instead keeps a socket bound to the port without
// listening on it: a connection attempt gets a RST (ECONNREFUSED), as from a
// closed port, and nobody else can bind the port until the test ends.
//
// Supported systems: Unix (Linux, macOS and the BSDs: the package uses the
// syscall package's Socket, Bind, Getsockname and CloseOnExec); it does not
// build on Windows or Plan 9.
package deadaddr

import (
	"net/netip"
	"syscall"
	"testing"
)

// Reserve returns 127.0.0.1:port for a port the kernel picked, bound until
// the end of tb by a TCP socket that never listens.
//
// The socket is made without SO_REUSEADDR on purpose: on Linux two sockets may
// share a port when both set it and neither listens, so a listener with
// SO_REUSEADDR (Go's net.Listen sets it) could otherwise bind and then listen
// on our port. Without it every other bind of the port fails with
// EADDRINUSE.
//
// The socket is made close-on-exec the portable way (SOCK_CLOEXEC does not
// exist on macOS): socket(2) then CloseOnExec, both under
// syscall.ForkLock's read lock, as the standard library's net package does
// where it lacks SOCK_CLOEXEC, so that a child started by another goroutine
// in between cannot inherit the descriptor.
func Reserve(tb testing.TB) string {
	tb.Helper()
	syscall.ForkLock.RLock()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err == nil {
		syscall.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		tb.Fatalf("deadaddr: socket: %v", err)
	}
	tb.Cleanup(func() { _ = syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		tb.Fatalf("deadaddr: bind 127.0.0.1:0: %v", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		tb.Fatalf("deadaddr: getsockname: %v", err)
	}
	in4, ok := sa.(*syscall.SockaddrInet4)
	if !ok {
		tb.Fatalf("deadaddr: getsockname: %T, want an IPv4 address", sa)
	}
	return netip.AddrPortFrom(netip.AddrFrom4(in4.Addr), uint16(in4.Port)).String() //nolint:gosec // G115: a port fits 16 bits
}
