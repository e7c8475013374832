//go:build tools

// Package tools pins the Inngest dev server (github.com/inngest/inngest v1.0.0)
// as a dependency of this module so that `go mod tidy` keeps it in go.mod and
// go.sum. The file is never compiled: the `tools` build tag is never set.
// Build the binary with:
//
//	go build -o ../../bin/inngest-v1.0.0 github.com/inngest/inngest/cmd
package tools

import _ "github.com/inngest/inngest/cmd"
