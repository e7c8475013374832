package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/routeapi/routeapi/internal/apitoken"
)

// apitokenCmd runs `routeapi apitoken new --id ID --name NAME`: it prints a
// new server-to-server token once, and the settings line that accepts it
// (only the token's SHA-256 is stored).
func apitokenCmd(args []string, stdout, stderr io.Writer) error {
	const usageText = "Usage: routeapi apitoken new --id ID [--name NAME]\n" +
		"Prints a new API token (shown once) and the apiTokens entry to add to the settings file.\n"
	usage := func() { _, _ = io.WriteString(stderr, usageText) }
	if asksHelp(args) {
		return printHelp(stdout, usageText)
	}
	if len(args) == 0 || args[0] != "new" {
		usage()
		return fmt.Errorf("apitoken: want the subcommand new: %w", errUsage)
	}
	fs := newFlagSet("routeapi apitoken new", stderr)
	id := fs.String("id", "", "the identity the token acts as (the event's user.id), required")
	name := fs.String("name", "", "a display name for the identity (the event's user.name)")
	fs.Usage = func() { _, _ = io.WriteString(fs.Output(), usageText); fs.PrintDefaults() }
	if err := parseFlags(fs, args[1:], stdout, stderr); err != nil {
		return err
	}
	*id, *name = strings.TrimSpace(*id), strings.TrimSpace(*name)
	if *id == "" || fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("apitoken: --id is required: %w", errUsage)
	}
	if strings.ContainsAny(*id+*name, "\"\\\n\r") {
		return fmt.Errorf("apitoken: --id and --name cannot contain quotes, backslashes or line breaks: %w", errUsage)
	}
	tok, hash := apitoken.New()
	entry := fmt.Sprintf(`  - {id: "%s", name: "%s", sha256: %s}`, *id, *name, hash)
	_, err := fmt.Fprintf(stdout, `API token for %s (shown only now; store it in the calling service's secrets):

  %s

Send it as: Authorization: Bearer %s
Add this entry under apiTokens: in the settings file (routeapi keeps only the hash):

apiTokens:
%s
`, *id, tok, tok, entry)
	return err
}
