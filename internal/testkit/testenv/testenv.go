// Package testenv gives tests a getenv that reads a map instead of the
// process environment, for the injected getenv of `run(ctx, args, getenv,
// stdout, stderr)` and `config.Load(getenv)`. Tests that use it never read or
// change the real environment, so they may run in parallel.
package testenv

// Map returns a getenv over vars: the value of a key in vars, "" for any
// other key (as os.Getenv answers for an unset variable). A nil map is an
// empty environment. The map is read at each call, not copied.
func Map(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}
