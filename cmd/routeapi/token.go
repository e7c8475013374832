package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/routeapi/routeapi/internal/config"
	"github.com/routeapi/routeapi/internal/session"
)

// token prints a next-auth v4 session cookie for the configured secret, so a
// newcomer can call the route with curl or Swagger UI.
func token(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("routeapi token", stderr)
	sub := fs.String("sub", "", "user id (the token's sub claim), required")
	email := fs.String("email", "", "user email, required")
	name := fs.String("name", "", "user name")
	picture := fs.String("picture", "", "user image URL")
	ttl := fs.Duration("ttl", time.Hour, "how long the session is valid")
	raw := fs.Bool("raw", false, "print only the token (for Authorization: Bearer and Swagger UI's Authorize)")
	v5 := fs.Bool("v5", false, "an Auth.js v5 cookie (authjs.session-token, AUTH_SECRET) instead of next-auth v4")
	fs.Usage = func() {
		_, _ = fmt.Fprintln(fs.Output(), "Usage: routeapi token --sub ID --email E [--name N] [--picture URL] [--ttl 1h] [--raw] [--v5]")
		_, _ = fmt.Fprintln(fs.Output(), "Prints a session cookie (name=value) signed with NEXTAUTH_SECRET (or the ROUTEAPI_DEV secret).")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
	}
	if *sub == "" || *email == "" || fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("token: --sub and --email are required: %w", errUsage)
	}
	if *ttl <= 0 {
		return errors.New("token: --ttl must be positive")
	}
	cfg, err := config.LoadSession(getenv)
	if err != nil {
		return err
	}
	claims := map[string]any{"sub": *sub, "email": *email}
	if *name != "" {
		claims["name"] = *name
	}
	if *picture != "" {
		claims["picture"] = *picture
	}
	cookie := session.CookieNames(cfg.SecureCookies())[0]
	var tok string
	if *v5 {
		// Auth.js encodes with the first secret; the salt is the cookie name.
		cookie = session.CookieNamesFor(session.FormatV5, cfg.SecureCookies())[0]
		if len(cfg.V5Secrets) == 0 {
			return fmt.Errorf("token: --v5 needs AUTH_SECRET (or NEXTAUTH_SECRET, or ROUTEAPI_DEV=1): %w", errUsage)
		}
		tok, err = session.EncodeV5(cfg.V5Secrets[0], cookie, claims, *ttl, time.Now())
	} else {
		tok, err = session.Encode(cfg.Secret, claims, *ttl, time.Now())
	}
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	if *raw {
		_, err = fmt.Fprintln(stdout, tok)
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s=%s\n", cookie, tok)
	return err
}
