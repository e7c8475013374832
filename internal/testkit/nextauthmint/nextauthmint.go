// Package nextauthmint gives Go tests real next-auth v4 and Auth.js v5 session
// tokens. It runs testdata/mint/mint.mjs (the real next-auth and @auth/core
// npm packages) with node and
// decodes its answer; the request and response shapes are described in
// testdata/mint/README.md.
//
// It needs node (>= 20) in PATH and testdata/mint/node_modules, installed by
// `make test-deps` (npm ci in testdata/mint). Tests fail, not skip, when they
// are missing: a suite that silently skips its interoperability checks proves
// nothing.
package nextauthmint

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Module is the module path of the repository that holds testdata/mint.
const Module = "github.com/routeapi/routeapi"

// Hint says how to install what the minter needs.
const Hint = "run `make test-deps` (npm ci in testdata/mint)"

// ErrNotInstalled means node or testdata/mint/node_modules is missing.
var ErrNotInstalled = errors.New("next-auth minter not installed")

// Kinds of case (Case.Kind).
const (
	// KindV4 is a real next-auth v4 token from next-auth/jwt's encode (the default).
	KindV4 = "v4"
	// KindAlgNoneJWT is an unsigned, unencrypted JWT; decoders must refuse it.
	KindAlgNoneJWT = "alg-none-jwt"
	// KindJWEAlgNone is a real v4 token whose header says alg "none"; decoders must refuse it.
	KindJWEAlgNone = "jwe-alg-none"
	// KindDecode mints nothing: Case.Token is decoded by next-auth with Case.Secret.
	KindDecode = "decode"
	// KindV5 is a real Auth.js v5 token from @auth/core/jwt's encode
	// (A256CBC-HS512 with a kid, salt = the cookie name, Secrets[0]).
	KindV5 = "v5"
	// KindV5GCM is a v5 token with enc A256GCM and a kid: @auth/core's decode
	// accepts it though its encode never makes it. The key comes from
	// @auth/core's hkdf, the encryption from its jose 6.
	KindV5GCM = "v5-gcm"
	// KindDecodeV5 mints nothing: Case.Token is decoded by @auth/core with
	// Case.Secrets (or Secret) and the cookie name as salt.
	KindDecodeV5 = "decode-v5"
	// KindV5NoKid is an A256CBC-HS512 v5 token without a kid (made like KindV5GCM).
	KindV5NoKid = "v5-nokid"
)

// Case asks for one token.
type Case struct {
	// Name identifies the case in the response and in errors; it is required.
	Name string `json:"name"`
	// Secret is the next-auth secret; it is required.
	Secret string `json:"secret"`
	// Kind is one of the Kind constants; "" means KindV4.
	Kind string `json:"kind,omitempty"`
	// Claims are the token's claims; next-auth adds iat, exp and jti.
	Claims map[string]any `json:"claims,omitempty"`
	// MaxAge sets exp = now + MaxAge seconds; negative gives an expired
	// token. 0 means next-auth's default, 30 days.
	MaxAge int `json:"maxAge,omitempty"`
	// SecureCookie names the cookies __Secure-next-auth.session-token.
	SecureCookie bool `json:"secureCookie,omitempty"`
	// PadBytes adds a claim "pad" of that many characters; about 8000 gives 3 cookie chunks.
	PadBytes int `json:"padBytes,omitempty"`
	// DecodeSecret is the secret next-auth decodes with; "" means Secret.
	DecodeSecret string `json:"decodeSecret,omitempty"`
	// Token is the token to decode, for KindDecode only.
	Token string `json:"token,omitempty"`
	// Secrets are the v5 secrets (an array, as @auth/core takes them); the
	// first encodes. Empty means [Secret].
	Secrets []string `json:"secrets,omitempty"`
	// DecodeSecrets are the secrets @auth/core's decode gets for the
	// round-trip check of a v5 token; empty means Secrets.
	DecodeSecrets []string `json:"decodeSecrets,omitempty"`
	// Salt overrides the v5 HKDF salt (default: the cookie's name), to mint a mismatch.
	Salt string `json:"salt,omitempty"`
}

// Cookie is one cookie next-auth would set.
type Cookie struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Vector is the minter's answer for one Case.
type Vector struct {
	Name  string `json:"name"`
	Kind  string `json:"kind"`
	Token string `json:"token"`
	// Cookies are the cookies next-auth sets for Token: one, or <name>.0, .1, ...
	Cookies []Cookie `json:"cookies"`
	// CookieHeader is Cookies as one Cookie request header value.
	CookieHeader string `json:"cookieHeader"`
	// Claims is what next-auth's own decode returned at mint time, nil when it
	// failed. Numbers are json.Number.
	Claims map[string]any `json:"claims"`
	// DecodeError is why next-auth's decode failed, "" when it succeeded.
	DecodeError string `json:"decodeError"`
}

// Request is what mint.mjs reads.
type Request struct {
	Cases []Case `json:"cases"`
}

// Response is what mint.mjs writes.
type Response struct {
	// Versions are the next-auth, @auth/core and jose versions that minted the tokens.
	Versions map[string]string `json:"versions"`
	// Cases answer Request.Cases, in order.
	Cases []Vector `json:"cases"`
}

// Mint mints cases with the real next-auth and returns one Vector per case,
// in order. It calls tb.Fatalf when the minter is missing or fails.
func Mint(tb testing.TB, cases ...Case) []Vector {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	resp, err := Run(ctx, Request{Cases: cases})
	if err != nil {
		tb.Fatalf("nextauthmint: %v", err)
	}
	return resp.Cases
}

// Run runs mint.mjs with req and returns its decoded response, one Vector per
// case. Errors wrap ErrNotInstalled when node or node_modules is missing.
func Run(ctx context.Context, req Request) (Response, error) {
	dir, err := Dir()
	if err != nil {
		return Response{}, err
	}
	return run(ctx, dir, req)
}

func run(ctx context.Context, dir string, req Request) (Response, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return Response{}, fmt.Errorf("%w: node (>= 20) is not in PATH; install Node.js, then %s", ErrNotInstalled, Hint)
	}
	for _, pkg := range []string{"next-auth", "@auth/core"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
			return Response{}, fmt.Errorf("%w: %s has no node_modules/%s; %s", ErrNotInstalled, dir, pkg, Hint)
		}
	}
	in, err := json.Marshal(req)
	if err != nil {
		return Response{}, fmt.Errorf("encode mint request: %w", err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, node, "mint.mjs") //nolint:gosec // G204: node from PATH running the repository's own script
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(in)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return Response{}, fmt.Errorf("node mint.mjs: %w: %s (if next-auth is missing or the wrong version, %s)",
			err, strings.TrimSpace(stderr.String()), Hint)
	}
	var resp Response
	dec := json.NewDecoder(&stdout)
	dec.UseNumber()
	if err := dec.Decode(&resp); err != nil {
		return Response{}, fmt.Errorf("decode mint.mjs output: %w", err)
	}
	if len(resp.Cases) != len(req.Cases) {
		return Response{}, fmt.Errorf("mint.mjs answered %d cases for %d", len(resp.Cases), len(req.Cases))
	}
	return resp, nil
}

// Dir returns the testdata/mint directory of the routeapi repository. It
// walks up from the working directory to the directory whose go.mod declares
// Module and holds testdata/mint/mint.mjs, so it works from any package of
// the repository and from nested modules such as e2e.
func Dir() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for d := wd; ; {
		mint := filepath.Join(d, "testdata", "mint")
		if isModuleRoot(d) && fileExists(filepath.Join(mint, "mint.mjs")) {
			return mint, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no directory above %s has a go.mod for %s and testdata/mint/mint.mjs", wd, Module)
		}
		d = parent
	}
}

// isModuleRoot reports whether dir/go.mod declares Module.
func isModuleRoot(dir string) bool {
	data, err := os.ReadFile(filepath.Join(dir, "go.mod")) //nolint:gosec // G304: reading go.mod files is the point
	if err != nil {
		return false
	}
	for line := range strings.Lines(string(data)) {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`) == Module
		}
	}
	return false
}

func fileExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}
