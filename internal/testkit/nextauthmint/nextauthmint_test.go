package nextauthmint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func TestDirFromNestedDirectories(t *testing.T) {
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(filepath.Dir(dir))
	if !isModuleRoot(root) || filepath.Base(dir) != "mint" {
		t.Fatalf("Dir() = %s, not <root of %s>/testdata/mint", dir, Module)
	}

	// A nested module (like e2e) has its own go.mod; Dir must walk past it.
	nested := filepath.Join(t.TempDir(), "e2e", "sub")
	if err := os.MkdirAll(nested, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(nested, "..", "go.mod"), []byte("module github.com/routeapi/routeapi/e2e\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(nested)
	if _, err := Dir(); err == nil {
		t.Fatal("Dir() outside the repository: want an error")
	}
	t.Chdir(filepath.Join(root, "internal", "session"))
	if got, err := Dir(); err != nil || got != dir {
		t.Fatalf("Dir() from internal/session = %q, %v; want %q", got, err, dir)
	}
}

func TestIsModuleRoot(t *testing.T) {
	for _, tc := range []struct {
		gomod string
		want  bool
	}{
		{"module github.com/routeapi/routeapi\n\ngo 1.26\n", true},
		{"// comment\nmodule \"github.com/routeapi/routeapi\" // quoted\n", true},
		{"module github.com/routeapi/routeapi/e2e\n", false},
		{"go 1.26\n", false},
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(tc.gomod), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := isModuleRoot(dir); got != tc.want {
			t.Errorf("isModuleRoot(%q) = %v, want %v", tc.gomod, got, tc.want)
		}
	}
}

func TestRunWithoutNodeModules(t *testing.T) {
	dir := t.TempDir() // no node_modules here
	_, err := run(context.Background(), dir, Request{Cases: []Case{{Name: "x", Secret: "s"}}})
	if !errors.Is(err, ErrNotInstalled) || !strings.Contains(err.Error(), "make test-deps") {
		t.Fatalf("run without node_modules: %v; want ErrNotInstalled naming make test-deps", err)
	}
}

// fatalTB records Fatalf and stops the goroutine like testing.T does. Its
// embedded TB is nil, so a Skip would panic instead of passing unnoticed.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestMintFailsWithoutNode(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // no node in PATH
	tb := &fatalTB{}
	done := make(chan []Vector)
	go func() {
		defer close(done)
		done <- Mint(tb, Case{Name: "x", Secret: "s"})
	}()
	if v, returned := <-done; returned {
		t.Fatalf("Mint without node returned %v; want Fatalf", v)
	}
	if !strings.Contains(tb.msg, "make test-deps") || !strings.Contains(tb.msg, "node") {
		t.Fatalf("Fatalf message %q does not say how to install the minter", tb.msg)
	}
}

func TestMintAndDecode(t *testing.T) {
	claims := map[string]any{"sub": "u1", "email": "a@b.c"}
	v := Mint(t, Case{Name: "plain", Secret: "s3cret", Claims: claims, MaxAge: 60})
	if len(v) != 1 || v[0].Name != "plain" || v[0].Kind != KindV4 || v[0].DecodeError != "" {
		t.Fatalf("vector = %+v", v)
	}
	if got := v[0].Claims["exp"]; reflect.TypeOf(got) != reflect.TypeFor[json.Number]() {
		t.Fatalf("claims exp is %T, want json.Number", got)
	}
	if v[0].Claims["sub"] != "u1" || v[0].Claims["email"] != "a@b.c" {
		t.Fatalf("claims = %v", v[0].Claims)
	}
	if len(v[0].Cookies) != 1 || v[0].Cookies[0].Value != v[0].Token || v[0].CookieHeader != "next-auth.session-token="+v[0].Token {
		t.Fatalf("cookies = %+v, header %q", v[0].Cookies, v[0].CookieHeader)
	}

	d := Mint(t,
		Case{Name: "same", Kind: KindDecode, Secret: "s3cret", Token: v[0].Token},
		Case{Name: "other", Kind: KindDecode, Secret: "s3cret", DecodeSecret: "other", Token: v[0].Token},
	)
	if d[0].DecodeError != "" || !reflect.DeepEqual(d[0].Claims, v[0].Claims) {
		t.Fatalf("decode with the right secret: claims %v, error %q; want %v", d[0].Claims, d[0].DecodeError, v[0].Claims)
	}
	if d[1].DecodeError == "" || d[1].Claims != nil {
		t.Fatalf("decode with another secret: claims %v, no error", d[1].Claims)
	}
}

func TestRunReportsMinterErrors(t *testing.T) {
	resp, err := Run(context.Background(), Request{Cases: []Case{{Name: "", Secret: "s"}}})
	if err == nil || !strings.Contains(err.Error(), `"name" must be a non-empty string`) {
		t.Fatalf("Run with an unnamed case = %+v, %v; want mint.mjs's message", resp, err)
	}
	resp, err = Run(context.Background(), Request{Cases: []Case{{Name: "v", Secret: "s"}}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Versions["next-auth"] != "4.24.15" {
		t.Fatalf("versions = %v, want next-auth 4.24.15", resp.Versions)
	}
}
