package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/apitoken"
	"github.com/routeapi/routeapi/internal/session"
	"github.com/routeapi/routeapi/internal/settings"
	"github.com/routeapi/routeapi/internal/testkit/listenaddr"
	"github.com/routeapi/routeapi/internal/testkit/logbuf"
	"github.com/routeapi/routeapi/internal/testkit/nextauthmint"
	"github.com/routeapi/routeapi/internal/testkit/testenv"
)

// env is a getenv over a map (testkit/testenv); nothing reads the real environment.
var env = testenv.Map

func TestHelpAndUnknownCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"routeapi", "help"}, env(nil), &out, &errOut); err != nil {
		t.Fatalf("help: %v", err)
	}
	if !strings.Contains(out.String(), "routeapi token") {
		t.Errorf("help output: %s", out.String())
	}
	err := run(context.Background(), []string{"routeapi", "frobnicate"}, env(nil), &out, &errOut)
	if !errors.Is(err, errUsage) {
		t.Errorf("unknown command: %v, want a usage error", err)
	}
}

// TestToken: the printed cookie decodes with the configured secret and carries the flags.
func TestToken(t *testing.T) {
	const secret = "cmd-test-secret"
	var out, errOut bytes.Buffer
	args := []string{"routeapi", "token", "--sub", "u1", "--email", "u1@example.com", "--name", "U One", "--ttl", "10m"}
	if err := run(context.Background(), args, env(map[string]string{"NEXTAUTH_SECRET": secret}), &out, &errOut); err != nil {
		t.Fatalf("token: %v (%s)", err, errOut.String())
	}
	name, tok, ok := strings.Cut(strings.TrimSpace(out.String()), "=")
	if !ok || name != session.CookieName {
		t.Fatalf("printed %q, want %s=<token>", out.String(), session.CookieName)
	}
	res, err := session.NewJWT(session.JWTConfig{Format: session.FormatV4, V4Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	s, err := res.Decode(tok)
	if err != nil {
		t.Fatalf("decode printed token: %v", err)
	}
	if s.Subject != "u1" || s.Email != "u1@example.com" || s.Name != "U One" {
		t.Errorf("session %+v", s)
	}
	if left := time.Until(s.ExpiresAt); left < 9*time.Minute || left > 11*time.Minute {
		t.Errorf("expires in %s, want about 10m", left)
	}

	// https NEXTAUTH_URL: the secure cookie name; --raw: the bare token.
	out.Reset()
	vars := map[string]string{"NEXTAUTH_SECRET": secret, "NEXTAUTH_URL": "https://app.example.com"}
	if err := run(context.Background(), []string{"routeapi", "token", "--sub", "u1", "--email", "e"}, env(vars), &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), session.SecureCookieName+"=") {
		t.Errorf("with an https NEXTAUTH_URL: %q", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"routeapi", "token", "--sub", "u1", "--email", "e", "--raw"}, env(vars), &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if _, err := res.Decode(strings.TrimSpace(out.String())); err != nil {
		t.Errorf("--raw printed something that does not decode: %v", err)
	}
}

func TestTokenErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		vars map[string]string
	}{
		"missing sub":    {[]string{"--email", "e"}, map[string]string{"NEXTAUTH_SECRET": "s"}},
		"missing email":  {[]string{"--sub", "u"}, map[string]string{"NEXTAUTH_SECRET": "s"}},
		"bad flag":       {[]string{"--sub", "u", "--email", "e", "--nope"}, map[string]string{"NEXTAUTH_SECRET": "s"}},
		"negative ttl":   {[]string{"--sub", "u", "--email", "e", "--ttl", "-1h"}, map[string]string{"NEXTAUTH_SECRET": "s"}},
		"no secret":      {[]string{"--sub", "u", "--email", "e"}, nil},
		"stray argument": {[]string{"--sub", "u", "--email", "e", "extra"}, map[string]string{"NEXTAUTH_SECRET": "s"}},
		"v5, database sessions, no secret": {[]string{"--v5", "--sub", "u", "--email", "e"},
			map[string]string{"ROUTEAPI_SESSION_STORE": "database"}},
	} {
		t.Run(name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), append([]string{"routeapi", "token"}, tc.args...), env(tc.vars), &out, &errOut)
			if err == nil {
				t.Fatalf("no error; printed %q", out.String())
			}
			if out.Len() != 0 {
				t.Errorf("printed a token on error: %q", out.String())
			}
		})
	}
}

// TestServe starts the real service through run with a fake environment,
// waits for /healthz and /readyz, and stops it by cancelling the context.
func TestServe(t *testing.T) {
	dir := t.TempDir()
	settingsPath := filepath.Join(dir, "settings.yaml")
	if err := os.WriteFile(settingsPath, []byte("route:\n  event: test/event\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out bytes.Buffer
	logs := &logbuf.Buffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"routeapi"}, env(map[string]string{
			"ROUTEAPI_ADDR": "127.0.0.1:0", "ROUTEAPI_DEV": "1", "INNGEST_DEV": "1",
			"INNGEST_BASE_URL": "http://127.0.0.1:1", "ROUTEAPI_SETTINGS": settingsPath,
			"ROUTEAPI_SPOOL_DIR": filepath.Join(dir, "spool"),
		}), &out, logs)
	}()
	addr := listeningAddr(t, logs, done)

	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := probeClient.Get("http://" + addr + "/readyz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready after 10s: %v", err)
		}
		select {
		case err := <-done:
			t.Fatalf("run returned early: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("run did not return after the context was cancelled")
	}
}

// probeClient is the client of readiness probes: a server that accepts a
// connection and never answers costs a probe 2 s, not the rest of the
// test's deadline.
var probeClient = &http.Client{Timeout: 2 * time.Second}

// listeningAddr waits up to 10 s for the "listening" record of serve's log
// and returns its addr (serve started on port 0 chose it), failing the test
// if serve returns first, or returns after logging "listening" (exited
// consumes serve's result from done, so the test could not see it later).
func listeningAddr(t *testing.T, logs *logbuf.Buffer, done <-chan error) string {
	t.Helper()
	var runErr error
	ended := false
	exited := func() bool {
		select {
		case runErr = <-done:
			ended = true
			return true
		default:
			return false
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addr, err := listenaddr.Wait(ctx, listenaddr.Source{Logs: logs.String, Exited: exited})
	if err != nil {
		t.Fatalf("serve's address: %v (run: %v)\n%s", err, runErr, logs.String())
	}
	if ended {
		t.Fatalf("serve returned: %v\n%s", runErr, logs.String())
	}
	return addr
}

func TestServeRefusesBadConfig(t *testing.T) {
	var out, logs bytes.Buffer
	err := run(context.Background(), []string{"routeapi", "serve"}, env(map[string]string{"INNGEST_DEV": "maybe"}), &out, &logs)
	if err == nil || !strings.Contains(err.Error(), "INNGEST_DEV") || !strings.Contains(err.Error(), "NEXTAUTH_SECRET") {
		t.Fatalf("err = %v, want one naming INNGEST_DEV and NEXTAUTH_SECRET", err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error spans several lines: %q", err)
	}
}

// TestTokenV5: --v5 prints an authjs cookie that Auth.js (@auth/core) itself accepts.
func TestTokenV5(t *testing.T) {
	var out, errOut bytes.Buffer
	args := []string{"routeapi", "token", "--v5", "--sub", "u5", "--email", "u5@example.com"}
	vars := map[string]string{"AUTH_SECRET": "new-secret", "AUTH_SECRET_1": "old-secret", "NEXTAUTH_URL": "https://app.example.com"}
	if err := run(context.Background(), args, env(vars), &out, &errOut); err != nil {
		t.Fatalf("token --v5: %v (%s)", err, errOut.String())
	}
	name, tok, ok := strings.Cut(strings.TrimSpace(out.String()), "=")
	if !ok || name != session.V5SecureCookieName {
		t.Fatalf("printed %q, want %s=<token>", out.String(), session.V5SecureCookieName)
	}
	v := nextauthmint.Mint(t, nextauthmint.Case{Name: "decode", Kind: nextauthmint.KindDecodeV5,
		Secrets: []string{"new-secret", "old-secret"}, SecureCookie: true, Token: tok})
	if v[0].DecodeError != "" || v[0].Claims["sub"] != "u5" {
		t.Fatalf("@auth/core decode: %v, claims %v", v[0].DecodeError, v[0].Claims)
	}
}

// TestAPITokenNew: the printed entry is valid settings that accept the printed token.
func TestAPITokenNew(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"routeapi", "apitoken", "new", "--id", "svc-billing", "--name", "Billing"}, env(nil), &out, &errOut); err != nil {
		t.Fatalf("apitoken new: %v (%s)", err, errOut.String())
	}
	text := out.String()
	tok := regexp.MustCompile(`Bearer (rk_[a-z2-7]+)`).FindStringSubmatch(text)
	if tok == nil {
		t.Fatalf("no token in %q", text)
	}
	_, yaml, ok := strings.Cut(text, "(routeapi keeps only the hash):\n")
	if !ok {
		t.Fatalf("no settings entry in %q", text)
	}
	s, err := settings.Parse([]byte(yaml))
	if err != nil {
		t.Fatalf("printed settings entry: %v\n%s", err, yaml)
	}
	id, err := apitoken.Lookup(s.APITokens, tok[1])
	if err != nil || id.ID != "svc-billing" || id.Name != "Billing" {
		t.Errorf("Lookup(printed token) = %+v, %v", id, err)
	}
	if strings.Count(text, tok[1]) != 2 || strings.Contains(yaml, tok[1]) {
		t.Error("the settings entry must hold only the hash, never the token")
	}
	for _, args := range [][]string{{"apitoken"}, {"apitoken", "new"}, {"apitoken", "new", "--id", `a"b`}, {"apitoken", "old", "--id", "x"}} {
		if err := run(context.Background(), append([]string{"routeapi"}, args...), env(nil), &out, &errOut); !errors.Is(err, errUsage) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
}
