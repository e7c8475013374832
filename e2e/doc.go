// Package e2e holds routeapi's end-to-end tests: the built binary, a real
// Inngest dev server and session tokens minted by the real next-auth npm
// package, all on loopback ports. It is a module of its own so that its test
// dependencies stay out of the service's go.mod.
//
// Run them with `make test-e2e` (or `make test`), which builds the binaries
// and sets ROUTEAPI_BIN and INNGEST_BIN.
package e2e
