package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/routeapi/routeapi/internal/config"
	"github.com/routeapi/routeapi/internal/session"
)

// tokenFlags are the flags of routeapi token.
type tokenFlags struct {
	sub, email, name, picture string
	ttl                       time.Duration
	raw, v5                   bool
}

// token prints a next-auth v4 session cookie for the configured secret, so a
// newcomer can call the route with curl or Swagger UI.
func token(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f, err := parseTokenFlags(args, stdout, stderr)
	if err != nil {
		return err
	}
	cfg, err := config.LoadSession(getenv)
	if err != nil {
		return err
	}
	cookie, tok, err := mintToken(cfg, f, time.Now())
	if err != nil {
		return err
	}
	if f.raw {
		_, err = fmt.Fprintln(stdout, tok)
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s=%s\n", cookie, tok)
	return err
}

// parseTokenFlags reads routeapi token's flags and checks the required ones.
func parseTokenFlags(args []string, stdout, stderr io.Writer) (tokenFlags, error) {
	var f tokenFlags
	fs := newFlagSet("routeapi token", stderr)
	fs.StringVar(&f.sub, "sub", "", "user id (the token's sub claim), required")
	fs.StringVar(&f.email, "email", "", "user email, required")
	fs.StringVar(&f.name, "name", "", "user name")
	fs.StringVar(&f.picture, "picture", "", "user image URL")
	fs.DurationVar(&f.ttl, "ttl", time.Hour, "how long the session is valid")
	fs.BoolVar(&f.raw, "raw", false, "print only the token (for Authorization: Bearer and Swagger UI's Authorize)")
	fs.BoolVar(&f.v5, "v5", false, "an Auth.js v5 cookie (authjs.session-token, AUTH_SECRET) instead of next-auth v4")
	fs.Usage = func() {
		_, _ = fmt.Fprintln(fs.Output(), "Usage: routeapi token --sub ID --email E [--name N] [--picture URL] [--ttl 1h] [--raw] [--v5]")
		_, _ = fmt.Fprintln(fs.Output(), "Prints a session cookie (name=value) signed with NEXTAUTH_SECRET (or the ROUTEAPI_DEV secret).")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return f, err
	}
	if f.sub == "" || f.email == "" || fs.NArg() > 0 {
		fs.Usage()
		return f, fmt.Errorf("token: --sub and --email are required: %w", errUsage)
	}
	if f.ttl <= 0 {
		return f, errors.New("token: --ttl must be positive")
	}
	return f, nil
}

// mintToken encodes f's claims as a next-auth v4 token (or, with --v5, an
// Auth.js v5 one) valid from now, and names the cookie that carries it.
func mintToken(cfg config.Session, f tokenFlags, now time.Time) (cookie, tok string, err error) {
	claims := map[string]any{"sub": f.sub, "email": f.email}
	if f.name != "" {
		claims["name"] = f.name
	}
	if f.picture != "" {
		claims["picture"] = f.picture
	}
	cookie = session.CookieNames(cfg.SecureCookies())[0]
	if f.v5 {
		// Auth.js encodes with the first secret; the salt is the cookie name.
		cookie = session.CookieNamesFor(session.FormatV5, cfg.SecureCookies())[0]
		if len(cfg.V5Secrets) == 0 {
			return "", "", fmt.Errorf("token: --v5 needs AUTH_SECRET (or NEXTAUTH_SECRET, or ROUTEAPI_DEV=1): %w", errUsage)
		}
		tok, err = session.EncodeV5(cfg.V5Secrets[0], cookie, claims, f.ttl, now)
	} else {
		tok, err = session.Encode(cfg.Secret, claims, f.ttl, now)
	}
	if err != nil {
		return "", "", fmt.Errorf("token: %w", err)
	}
	return cookie, tok, nil
}
