// Command routeapi serves POST /api/route: it resolves the caller's next-auth
// session and publishes an event to Inngest. Run `routeapi help` for usage.
package main

import (
	"context"
	"fmt"
	"os"
)

func main() {
	if err := run(context.Background(), os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "routeapi:", err)
		os.Exit(1)
	}
}
