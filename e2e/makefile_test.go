package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCheckGeneratedHonoursO: `make -o <the client's npm stamp>
// check-generated` takes the stamp as up to date for the generate step too
// (npm ci is not run even when the stamp is older than package.json), as
// a worktree whose node_modules is a symlink to another checkout's needs;
// without -o the stale stamp still makes it install. make -n in a directory
// holding only the Makefile and the files the stamp depends on: nothing runs.
func TestCheckGeneratedHonoursO(t *testing.T) {
	dir := t.TempDir()
	mk, err := os.ReadFile(filepath.Join(repoRoot(t), "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	client := filepath.Join(dir, "clients", "typescript")
	if err := os.MkdirAll(filepath.Join(client, "node_modules"), 0o755); err != nil {
		t.Fatal(err)
	}
	stamp := filepath.Join(client, "node_modules", ".installed")
	for path, text := range map[string]string{
		filepath.Join(dir, "Makefile"):             string(mk),
		filepath.Join(client, "package.json"):      "{}\n",
		filepath.Join(client, "package-lock.json"): "{}\n",
		stamp: "",
	} {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The stamp is older than package.json: stale.
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(stamp, old, old); err != nil {
		t.Fatal(err)
	}
	plan := func(args ...string) string {
		cmd := exec.Command("make", append([]string{"-n", "--no-print-directory"}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "MAKEFLAGS=", "MAKELEVEL=")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("make %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	if out := plan("check-generated"); !strings.Contains(out, "npm ci") {
		t.Fatalf("without -o, a stale stamp does not make check-generated install (so this test proves nothing):\n%s", out)
	}
	out := plan("-o", "clients/typescript/node_modules/.installed", "check-generated")
	if strings.Contains(out, "npm ci") {
		t.Errorf("make -o <stamp> check-generated would run npm ci:\n%s", out)
	}
	if !strings.Contains(out, "openapi-typescript") || !strings.Contains(out, "git diff --exit-code") {
		t.Errorf("make -o <stamp> check-generated does not generate, then compare:\n%s", out)
	}
}
