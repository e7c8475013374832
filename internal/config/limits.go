package config

import (
	"strconv"
	"time"
)

// Defaults and bounds of the request limits.
const (
	// DefaultMaxInflightBytes is the default budget of request body bytes
	// held at once: 128 bodies of the default 256 KiB limit, 10 of the
	// largest (3 MiB).
	DefaultMaxInflightBytes = 32 << 20
	// MinMaxInflightBytes is the smallest budget: one body of the largest
	// route.maxBodyBytes the settings accept (3 MiB), so every request the
	// settings allow can be admitted.
	MinMaxInflightBytes = 3 << 20
	maxMaxInflightBytes = 1 << 40
	// DefaultAdmissionWait is how long a request waits for room in the budget.
	DefaultAdmissionWait = time.Second
	maxAdmissionWait     = 30 * time.Second
	// DefaultReadTimeout bounds the reading of a whole request, body included.
	DefaultReadTimeout = 30 * time.Second
	minReadTimeout     = 100 * time.Millisecond
	maxReadTimeout     = 10 * time.Minute
)

// loadLimits reads the admission budget and the read timeout.
func loadLimits(c *Config, get func(string) string, bad func(name, format string, args ...any)) {
	c.MaxInflightBytes = DefaultMaxInflightBytes
	if raw := get("ROUTEAPI_MAX_INFLIGHT_BYTES"); raw != "" {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < MinMaxInflightBytes || n > maxMaxInflightBytes {
			bad("ROUTEAPI_MAX_INFLIGHT_BYTES", "want a number of bytes from %d (3 MiB, the largest body) to %d, got %q",
				MinMaxInflightBytes, int64(maxMaxInflightBytes), raw)
		} else {
			c.MaxInflightBytes = n
		}
	}
	c.AdmissionWait = durationVar(get, bad, "ROUTEAPI_ADMISSION_WAIT", DefaultAdmissionWait, 0, maxAdmissionWait)
	c.ReadTimeout = durationVar(get, bad, "ROUTEAPI_READ_TIMEOUT", DefaultReadTimeout, minReadTimeout, maxReadTimeout)
}

// durationVar reads the variable name as a Go duration (time.ParseDuration)
// from lo to hi; unset is def. A bad value is reported through bad and
// def is used, so every other variable is still checked.
func durationVar(get func(string) string, bad func(name, format string, args ...any), name string, def, lo, hi time.Duration) time.Duration {
	raw := get(name)
	if raw == "" {
		return def
	}
	d, err := time.ParseDuration(raw)
	if err != nil || d < lo || d > hi {
		bad(name, "want a duration from %s to %s, got %q", lo, hi, raw)
		return def
	}
	return d
}
