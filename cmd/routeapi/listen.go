package main

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/routeapi/routeapi/internal/config"
)

// listenError explains why serve could not listen on addr: like a bad
// configuration value, it names the variable that chose the address
// (ROUTEAPI_ADDR, else PORT, else the default port), and when the address is
// taken (EADDRINUSE) it says to change that variable. The common case is
// `PORT=3000` beside a Next.js app, or a second routeapi on one port.
func listenError(addr string, getenv func(string) string, err error) error {
	name, source := "PORT", "PORT"
	switch {
	case getenv("ROUTEAPI_ADDR") != "":
		name, source = "ROUTEAPI_ADDR", "ROUTEAPI_ADDR"
	case getenv("PORT") == "":
		source = "the default port " + config.DefaultPort + "; PORT is unset"
	}
	if errors.Is(err, syscall.EADDRINUSE) {
		what := "a free port"
		if name == "ROUTEAPI_ADDR" {
			what = "a free address"
		}
		return fmt.Errorf("listen on %s (from %s): %w: something else already listens there (a Next.js app? another routeapi?); set %s to %s",
			addr, source, err, name, what)
	}
	return fmt.Errorf("listen on %s (from %s): %w", addr, source, err)
}
