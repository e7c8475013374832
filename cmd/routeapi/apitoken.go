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
	usage := func() {
		_, _ = fmt.Fprintln(stderr, "Usage: routeapi apitoken new --id ID [--name NAME]")
		_, _ = fmt.Fprintln(stderr, "Prints a new API token (shown once) and the apiTokens entry to add to the settings file.")
	}
	if len(args) == 0 || args[0] != "new" {
		usage()
		return fmt.Errorf("apitoken: want the subcommand new: %w", errUsage)
	}
	fs := newFlagSet("routeapi apitoken new", stderr)
	id := fs.String("id", "", "the identity the token acts as (the event's user.id), required")
	name := fs.String("name", "", "a display name for the identity (the event's user.name)")
	fs.Usage = func() { usage(); fs.PrintDefaults() }
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("apitoken: %w", errUsage)
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
