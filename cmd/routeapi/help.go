package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
)

// errHelp reports that help was asked for and printed: run returns success
// for it (exit 0), unlike errUsage.
var errHelp = errors.New("help requested")

// helpArgs are the arguments that ask for help, as package flag reads them.
var helpArgs = []string{"-h", "-help", "--help"}

// asksHelp reports whether args is exactly one request for help.
func asksHelp(args []string) bool {
	return len(args) == 1 && slices.Contains(helpArgs, args[0])
}

// printHelp writes a subcommand's usage to stdout (help asked for is
// output, not an error) and returns errHelp.
func printHelp(stdout io.Writer, usage string) error {
	if _, err := io.WriteString(stdout, usage); err != nil {
		return fmt.Errorf("print help: %w", err)
	}
	return errHelp
}

// parseFlags parses args with fs. Help asked for (-h, -help, --help) prints
// fs.Usage to stdout and returns errHelp; a bad flag prints the error and
// fs.Usage to stderr and returns an errUsage error. fs.Usage must write to
// fs.Output().
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	switch {
	case err == nil:
		fs.SetOutput(stderr)
		return nil
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(stdout)
		fs.Usage()
		return errHelp
	}
	fs.SetOutput(stderr)
	_, _ = fmt.Fprintln(stderr, err)
	fs.Usage()
	return fmt.Errorf("%s: %w: %w", fs.Name(), err, errUsage)
}
