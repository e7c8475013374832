package config

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// env reads variables through getenv and collects a message for each bad
// one, so that one error names every offending variable. Each reader trims
// white space, returns its default when the variable is unset, and on a bad
// value records "NAME: want …, got "value"" and goes on, so every other
// variable is still read and checked.
type env struct {
	getenv func(string) string
	errs   []string
}

// bad records that the variable name is bad: "name: message".
func (e *env) bad(name, format string, args ...any) {
	e.errs = append(e.errs, name+": "+fmt.Sprintf(format, args...))
}

// err is the one-line error naming every bad variable, nil when none is.
func (e *env) err() error {
	if len(e.errs) == 0 {
		return nil
	}
	return errors.New("invalid configuration: " + strings.Join(e.errs, "; "))
}

// str is the variable without surrounding white space.
func (e *env) str(name string) string { return strings.TrimSpace(e.getenv(name)) }

// strOr is str, or def when the variable is unset or blank.
func (e *env) strOr(name, def string) string { return cmp.Or(e.str(name), def) }

// oneOf reads the variable in lower case as one of allowed; unset is def.
// The message lists allowed in order: want a, b or c, got "x". A bad value
// is reported and returned as it is (it matches no allowed value).
func oneOf[T ~string](e *env, name string, def T, allowed ...T) T {
	if !slices.Contains(allowed, def) {
		panic(fmt.Sprintf("config: %s: the default %q is not one of %v", name, def, allowed))
	}
	v := T(strings.ToLower(e.str(name)))
	if v == "" {
		return def
	}
	if !slices.Contains(allowed, v) {
		e.bad(name, "want %s, got %q", orList(allowed), v)
	}
	return v
}

// boolean reads 1/true/yes/on or 0/false/no/off (any case, see parseBool); unset is false.
func (e *env) boolean(name string) bool {
	b, err := parseBool(e.str(name))
	if err != nil {
		e.bad(name, "%v", err)
	}
	return b
}

// dur reads a Go duration (time.ParseDuration) from lo to hi; unset is def.
func (e *env) dur(name string, def, lo, hi time.Duration) time.Duration {
	return e.durWant(name, def, lo, hi, fmt.Sprintf("a duration from %s to %s", lo, hi))
}

// durWant is dur with the message "want <want>, got "x"".
func (e *env) durWant(name string, def, lo, hi time.Duration, want string) time.Duration {
	defaultWithin(name, def, lo, hi)
	raw := e.str(name)
	if raw == "" {
		return def
	}
	d, err := time.ParseDuration(raw)
	if err != nil || d < lo || d > hi {
		e.bad(name, "want %s, got %q", want, raw)
		return def
	}
	return d
}

// int reads a whole number from lo to hi; unset is def.
func (e *env) int(name string, def, lo, hi int) int {
	return int(e.int64Want(name, int64(def), int64(lo), int64(hi), fmt.Sprintf("a whole number from %d to %d", lo, hi)))
}

// int64Want reads a whole number from lo to hi with the message "want <want>, got "x""; unset is def.
func (e *env) int64Want(name string, def, lo, hi int64, want string) int64 {
	defaultWithin(name, def, lo, hi)
	raw := e.str(name)
	if raw == "" {
		return def
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n < lo || n > hi {
		e.bad(name, "want %s, got %q", want, raw)
		return def
	}
	return n
}

// defaultWithin panics when a reader's own default lies outside its bounds:
// a mistake in routeapi's source, not in the environment, which every test
// that loads the defaults (TestLoadDefaults) finds before a user could.
func defaultWithin[T cmp.Ordered](name string, def, lo, hi T) {
	if def < lo || def > hi {
		panic(fmt.Sprintf("config: %s: the default %v is outside its bounds [%v, %v]", name, def, lo, hi))
	}
}

// httpURL reads an absolute http(s) URL; unset is "". A bad value is
// reported and returned as it is.
func (e *env) httpURL(name string) string {
	raw := e.str(name)
	if raw != "" && !isHTTPURL(raw) {
		e.bad(name, "want an absolute http(s) URL, got %q", raw)
	}
	return raw
}

// parseBool accepts 1/true/yes/on and 0/false/no/off (any case) and empty (false).
func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "", "0", "false", "no", "off":
		return false, nil
	case "1", "true", "yes", "on":
		return true, nil
	}
	return false, fmt.Errorf("want 1/true or 0/false, got %q", s)
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// orList writes "a", "a or b", "a, b or c".
func orList[T ~string](items []T) string {
	var b strings.Builder
	for i, v := range items {
		switch {
		case i == 0:
		case i == len(items)-1:
			b.WriteString(" or ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(string(v))
	}
	return b.String()
}
