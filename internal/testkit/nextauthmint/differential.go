package nextauthmint

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Verdicts runs testdata/mint/differential.mjs in its verdicts mode: corpus
// is testdata/sessions/corpus.json, the answer is what the real next-auth
// 4.24.15 (pages router and App Router readings) and @auth/core 0.41.3
// getToken make of each header set in it, in the shape of
// testdata/sessions/verdicts.json (testdata/sessions/README.md). Errors wrap
// ErrNotInstalled when node or node_modules is missing.
func Verdicts(ctx context.Context, corpus []byte) ([]byte, error) {
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("%w: node (>= 20) is not in PATH; install Node.js, then %s", ErrNotInstalled, Hint)
	}
	for _, pkg := range []string{"next-auth", "@auth/core", "@edge-runtime/cookies"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
			return nil, fmt.Errorf("%w: %s has no node_modules/%s; %s", ErrNotInstalled, dir, pkg, Hint)
		}
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, node, "differential.mjs", "verdicts") //nolint:gosec // G204: node from PATH running the repository's own script
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(corpus)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("node differential.mjs verdicts: %w: %s (%s)", err, strings.TrimSpace(stderr.String()), Hint)
	}
	return stdout.Bytes(), nil
}
