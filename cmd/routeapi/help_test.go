package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

// TestHelpIsSuccess: help asked for, for every command and in every
// spelling package flag knows, exits 0 and prints the usage on stdout; it
// needs no configuration. An unknown command or flag, or a stray argument,
// is a usage error (exit 1).
func TestHelpIsSuccess(t *testing.T) {
	for _, args := range [][]string{
		{"help"}, {"-h"}, {"-help"}, {"--help"},
		{"help", "serve"}, {"help", "token"}, {"help", "apitoken"}, {"help", "spool"},
		{"serve", "--help"}, {"serve", "-h"}, {"serve", "-help"},
		{"token", "--help"}, {"token", "-h"}, {"token", "--sub", "u1", "--help"},
		{"apitoken", "--help"}, {"apitoken", "-h"}, {"apitoken", "new", "--help"}, {"apitoken", "new", "-h"},
		{"spool", "--help"}, {"spool", "-h"}, {"spool", "stats", "--help"}, {"spool", "dead", "-h"}, {"spool", "replay", "--help"},
		{"version", "--help"}, {"version", "-h"}, {"help", "version"},
		{"healthcheck", "--help"}, {"healthcheck", "-h"}, {"help", "healthcheck"},
		{"--help", "serve"}, {"-h", "token"},
	} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), append([]string{"routeapi"}, args...), env(nil), &out, &errOut)
		if err != nil {
			t.Errorf("routeapi %s: %v, want success", strings.Join(args, " "), err)
		}
		if !strings.Contains(out.String(), "Usage") && !strings.Contains(out.String(), "routeapi") {
			t.Errorf("routeapi %s: no usage on stdout: %q", strings.Join(args, " "), out.String())
		}
		if errOut.Len() != 0 {
			t.Errorf("routeapi %s: wrote to stderr: %q", strings.Join(args, " "), errOut.String())
		}
	}
	for _, args := range [][]string{
		{"frobnicate"}, {"--frobnicate"}, {"help", "frobnicate"},
		{"serve", "--frobnicate"}, {"serve", "extra"},
		{"token", "--frobnicate"}, {"token", "--sub", "u1", "--email", "e", "extra"},
		{"apitoken"}, {"apitoken", "old"}, {"apitoken", "new", "--frobnicate"},
		{"spool"}, {"spool", "frobnicate"}, {"spool", "frobnicate", "--help"}, {"spool", "stats", "--frobnicate"},
		{"version", "extra"}, {"version", "--frobnicate"}, {"healthcheck", "--frobnicate"}, {"healthcheck", "extra"},
		{"help", "serve", "extra"}, {"help", "help", "extra"}, {"--help", "frobnicate"}, {"-h", "serve", "extra"},
		{"spool", "stats", "extra"}, {"apitoken", "new", "--id", "x", "extra"},
	} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), append([]string{"routeapi"}, args...), env(nil), &out, &errOut)
		if !errors.Is(err, errUsage) {
			t.Errorf("routeapi %s: %v, want a usage error", strings.Join(args, " "), err)
		}
	}
}
