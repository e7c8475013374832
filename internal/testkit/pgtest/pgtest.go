// Package pgtest starts a throwaway PostgreSQL server for tests: a fresh
// cluster in a temporary directory, listening on a free loopback port (Start
// picks another if the server cannot bind the one it picked), with
// trust authentication for the user "app". It follows the recipe in
// ../shared/design/toolchain.md §9 and works as root (initdb then runs as the
// postgres user).
//
// The binaries are taken from ROUTEAPI_PG_BIN, or else the newest
// /usr/lib/postgresql/*/bin. A missing PostgreSQL fails the test: `.ci/run`
// installs it, and a skipped test would hide the gap.
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is one running (or stopped) PostgreSQL cluster owned by a test.
type Server struct {
	// URL is a pgx/libpq connection URL for the database "postgres" as user "app".
	URL string
	// Port is the loopback TCP port the server listens on.
	Port int

	bin     string
	dir     string
	asUser  []string
	mu      sync.Mutex
	running bool
}

// Start initialises and starts a new cluster and registers its removal with
// tb.Cleanup. It takes about a second.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin, err := binDir()
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	dir, err := os.MkdirTemp("", "pgtest.")
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	s := &Server{bin: bin, dir: dir}
	if os.Geteuid() == 0 {
		if err := chownToPostgres(dir); err != nil {
			_ = os.RemoveAll(dir)
			tb.Fatalf("pgtest: %v", err)
		}
		s.asUser = []string{"runuser", "-u", "postgres", "--"}
	}
	tb.Cleanup(func() {
		if err := s.stop(); err != nil {
			tb.Logf("pgtest: stop: %v", err)
		}
		// Whatever s.running says: a start that timed out (pg_ctl start -w
		// -t 30) may have left a postmaster running that s.running does not
		// know of, and removing the directory under it would leave it behind.
		if err := s.halt(); err != nil {
			tb.Logf("pgtest: stop -m immediate: %v", err)
		}
		_ = os.RemoveAll(dir)
	})
	if out, err := s.run("initdb", "-D", s.dataDir(), "-U", "app", "--auth=trust", "-E", "UTF8", "--no-instructions"); err != nil {
		tb.Fatalf("pgtest: initdb: %v\n%s", err, out)
	}
	// pg_ctl must be told the port before the server binds it, so the port
	// is one that was free a moment ago; if another process took it in
	// between, the server fails to bind and Start tries a new port.
	const attempts = 3
	var why []string
	for range attempts {
		s.Port = pickPort(tb)
		s.URL = fmt.Sprintf("postgres://app@127.0.0.1:%d/postgres?sslmode=disable", s.Port)
		err := s.start()
		if err == nil {
			return s
		}
		if !errors.Is(err, errPortTaken) {
			tb.Fatalf("pgtest: %v", err)
		}
		why = append(why, err.Error())
	}
	tb.Fatalf("pgtest: no free port in %d attempts:\n%s", attempts, strings.Join(why, "\n"))
	return nil
}

// errPortTaken: the server could not bind its port (server.log says "could
// not bind" or "Address already in use"): another process holds it.
var errPortTaken = errors.New("the port is taken")

// Stop stops the server (fast shutdown) so tests can see how callers behave
// when the database is gone. The data stays; Restart brings it back.
func (s *Server) Stop(tb testing.TB) {
	tb.Helper()
	if err := s.stop(); err != nil {
		tb.Fatalf("pgtest: stop: %v", err)
	}
}

// Restart starts a stopped server on the same port with the same data (the
// callers hold URL, so the port cannot change). If another process took the
// port while the server was stopped, Restart fails the test.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	if err := s.start(); err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
}

// start starts the server on s.Port unless it runs; errPortTaken when it
// could not bind the port.
func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		return nil
	}
	opts := strings.Join([]string{
		"-c listen_addresses=127.0.0.1",
		"-p " + strconv.Itoa(s.Port),
		"-k " + s.dir,
		"-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off",
	}, " ")
	logPath := filepath.Join(s.dir, "server.log")
	before, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
	if out, err := s.run("pg_ctl", "-D", s.dataDir(), "-l", logPath, "-w", "-t", "30", "-o", opts, "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
		log = log[min(len(before), len(log)):] // this start's lines only (pg_ctl -l appends)
		if bytes.Contains(log, []byte("could not bind")) || bytes.Contains(log, []byte("Address already in use")) {
			err = fmt.Errorf("%w: port %d: %w", errPortTaken, s.Port, err)
		}
		return fmt.Errorf("pg_ctl start: %w\n%s\n%s", err, out, log)
	}
	s.running = true
	return nil
}

func (s *Server) stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running {
		return nil
	}
	s.running = false
	if out, err := s.run("pg_ctl", "-D", s.dataDir(), "-m", "fast", "-w", "-t", "30", "stop"); err != nil {
		return fmt.Errorf("%w: %s", err, out)
	}
	return nil
}

// halt stops any postmaster that runs on the data directory (immediate
// shutdown), whether or not s.running knows of it; that none runs is no
// error (pg_ctl then says "Is server running?", or that the data directory
// does not exist when initdb never made it).
func (s *Server) halt() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running = false
	out, err := s.run("pg_ctl", "-D", s.dataDir(), "-m", "immediate", "-w", "-t", "30", "stop")
	if err != nil && !bytes.Contains(out, []byte("Is server running?")) && !bytes.Contains(out, []byte("does not exist")) {
		return fmt.Errorf("%w: %s", err, out)
	}
	return nil
}

func (s *Server) dataDir() string { return filepath.Join(s.dir, "data") }

// run runs one of the PostgreSQL programs (as the postgres user when root)
// with a one-minute bound and returns its combined output.
func (s *Server) run(name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	full := append(append([]string{}, s.asUser...), filepath.Join(s.bin, name))
	full = append(full, args...)
	cmd := exec.CommandContext(ctx, full[0], full[1:]...) //nolint:gosec // fixed PostgreSQL programs from the test's own binDir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	return cmd.CombinedOutput()
}

func binDir() (string, error) {
	if d := os.Getenv("ROUTEAPI_PG_BIN"); d != "" {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	if len(dirs) == 0 {
		return "", fmt.Errorf("no PostgreSQL binaries in /usr/lib/postgresql/*/bin (apt-get install postgresql, or set ROUTEAPI_PG_BIN)")
	}
	sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) < pgVersion(dirs[j]) })
	return dirs[len(dirs)-1], nil
}

func pgVersion(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func chownToPostgres(dir string) error {
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("running as root needs the postgres user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(dir, uid, gid)
}

// pickPort picks the port for each attempt of Start; a test replaces it to
// hand Start a taken port first.
var pickPort = freePort

// freePort is a loopback port that was free a moment ago (Start retries
// when the server then fails to bind it).
func freePort(tb testing.TB) int {
	tb.Helper()
	var lc net.ListenConfig
	l, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("pgtest: free port: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		tb.Fatalf("pgtest: free port: %v", err)
	}
	return port
}
