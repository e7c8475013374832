package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

const usage = `routeapi: POST /api/route with next-auth sessions and Inngest events.

Usage:
  routeapi [serve]           run the HTTP service (configured by the environment; see README)
  routeapi token [flags]     print a session cookie for the configured secret (local use)
  routeapi apitoken new --id ID [--name NAME]
                             make a server-to-server API token and its settings entry
  routeapi spool stats       print the spool's depth, oldest age and dead letters
  routeapi spool dead        list the dead letters
  routeapi spool replay      send the dead letters to Inngest again
  routeapi healthcheck [--path /readyz]
                             exit 0 if the local routeapi answers 200 (the image's HEALTHCHECK)
  routeapi version           print the module version and VCS revision
  routeapi help [command]    print this help, or a command's (also: routeapi <command> --help)
`

const serveUsage = `Usage: routeapi serve

Runs the HTTP service until SIGINT or SIGTERM (SIGHUP reloads the settings).
It takes no flags: it is configured by the environment (NEXTAUTH_SECRET or
AUTH_SECRET, INNGEST_EVENT_KEY or INNGEST_DEV, ROUTEAPI_*; see the README's
configuration table).
`

// errUsage marks an error in how routeapi was called.
var errUsage = errors.New("usage")

// run is the whole program; main only calls it, so tests can run it with
// their own arguments, environment and output. Help asked for, for any
// command, is success; an unknown command or flag is an errUsage error.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if err := runCommand(ctx, args, getenv, stdout, stderr); !errors.Is(err, errHelp) {
		return err
	}
	return nil
}

// runCommand runs the command args name.
func runCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd, rest := "serve", []string(nil)
	if len(args) > 1 {
		cmd, rest = args[1], args[2:]
	}
	switch cmd {
	case "serve":
		if asksHelp(rest) {
			return printHelp(stdout, serveUsage)
		}
		if len(rest) > 0 {
			return fmt.Errorf("serve takes no arguments, got %q: %w", strings.Join(rest, " "), errUsage)
		}
		return serve(ctx, getenv, stderr)
	case "spool":
		return spoolCmd(ctx, rest, getenv, stdout, stderr)
	case "token":
		return token(rest, getenv, stdout, stderr)
	case "apitoken":
		return apitokenCmd(rest, stdout, stderr)
	case "healthcheck":
		return healthcheck(ctx, rest, getenv, stdout, stderr)
	case "version":
		return versionCmd(rest, stdout)
	case "help", "-h", "-help", "--help":
		switch {
		case len(rest) == 1 && rest[0] != "help": // routeapi help token
			return runCommand(ctx, []string{args[0], rest[0], "--help"}, getenv, stdout, stderr)
		case len(rest) > 1: // help names one command
			_, _ = fmt.Fprint(stderr, usage)
			return fmt.Errorf("%s takes at most one command, got %q: %w", cmd, strings.Join(rest, " "), errUsage)
		}
		_, err := io.WriteString(stdout, usage)
		return err
	}
	_, _ = fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q: %w", cmd, errUsage)
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}
