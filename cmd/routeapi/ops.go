package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/routeapi/routeapi/internal/config"
)

// versionCmd prints the module version and the VCS revision the binary was
// built from, as the Go toolchain recorded them (runtime/debug.ReadBuildInfo):
// "routeapi <version> <revision>[-dirty] <commit time> <go version>". A
// binary built outside a git checkout, or with -buildvcs=false, has no
// revision and prints "unknown".
// versionUsage is routeapi version's help.
const versionUsage = `Usage: routeapi version

Prints the module version, the VCS revision and time the binary was built
from, and the Go version.
`

func versionCmd(args []string, stdout io.Writer) error {
	if asksHelp(args) {
		return printHelp(stdout, versionUsage)
	}
	if len(args) > 0 {
		return fmt.Errorf("version takes no arguments, got %q: %w", strings.Join(args, " "), errUsage)
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return errors.New("version: the binary carries no build information")
	}
	_, err := fmt.Fprintln(stdout, versionLine(bi))
	return err
}

// versionLine formats bi for `routeapi version`.
func versionLine(bi *debug.BuildInfo) string {
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	rev, when := "unknown", "unknown"
	if r := settings["vcs.revision"]; r != "" {
		rev = r
		if settings["vcs.modified"] == "true" {
			rev += "-dirty"
		}
	}
	if t := settings["vcs.time"]; t != "" {
		when = t
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	return fmt.Sprintf("routeapi %s %s %s %s", v, rev, when, bi.GoVersion)
}

// healthcheckTimeout bounds one health check.
const healthcheckTimeout = 3 * time.Second

// healthcheck asks the routeapi listening on the configured address
// (ROUTEAPI_ADDR or PORT, as serve reads them) for /readyz (or --path) and
// succeeds only on a 200. It is the container image's HEALTHCHECK: the image
// has no shell and no curl.
func healthcheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("routeapi healthcheck", stderr)
	path := fs.String("path", "/readyz", "the path to ask: /readyz (ready to serve) or /healthz (the process is up)")
	fs.Usage = func() {
		_, _ = fmt.Fprintln(fs.Output(), "Usage: routeapi healthcheck [--path /readyz]")
		_, _ = fmt.Fprintln(fs.Output(), "Exits 0 when the local routeapi (ROUTEAPI_ADDR or PORT) answers 200, 1 otherwise.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 || !strings.HasPrefix(*path, "/") {
		fs.Usage()
		return fmt.Errorf("healthcheck: want only --path /something: %w", errUsage)
	}
	cfg, err := config.LoadParts(getenv, config.PartListen)
	if err != nil {
		return err
	}
	url := "http://" + dialAddr(cfg.Addr) + *path
	ctx, cancel := context.WithTimeout(ctx, healthcheckTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := (&http.Client{Timeout: healthcheckTimeout}).Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: GET %s: %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	_, err = fmt.Fprintf(stdout, "%s: %s\n", url, strings.TrimSpace(string(body)))
	return err
}

// dialAddr turns a listen address into one to connect to: an unspecified
// host (":8390", "0.0.0.0:8390", "[::]:8390") is this machine's loopback.
func dialAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	switch ip := net.ParseIP(host); {
	case host == "", ip != nil && ip.Equal(net.IPv4zero):
		host = "127.0.0.1"
	case ip != nil && ip.Equal(net.IPv6unspecified):
		host = "::1"
	}
	return net.JoinHostPort(host, port)
}
