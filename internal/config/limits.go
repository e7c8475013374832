package config

import (
	"fmt"
	"time"

	"github.com/routeapi/routeapi/internal/settings"
)

// Defaults and bounds of the request limits.
const (
	// DefaultMaxInflightBytes is the default budget of request body bytes
	// held at once: 128 bodies of the default 256 KiB limit, 10 of the
	// largest (3 MiB).
	DefaultMaxInflightBytes = 32 << 20
	// MinMaxInflightBytes is the smallest budget: one body of the largest
	// route.maxBodyBytes the settings accept (settings.MaxMaxBodyBytes,
	// 3 MiB), so every request the settings allow can be admitted.
	MinMaxInflightBytes = settings.MaxMaxBodyBytes
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
func loadLimits(c *Config, e *env) {
	c.MaxInflightBytes = e.int64Want("ROUTEAPI_MAX_INFLIGHT_BYTES", DefaultMaxInflightBytes, MinMaxInflightBytes, maxMaxInflightBytes,
		fmt.Sprintf("a number of bytes from %d (3 MiB, the largest body) to %d", MinMaxInflightBytes, int64(maxMaxInflightBytes)))
	c.AdmissionWait = e.dur("ROUTEAPI_ADMISSION_WAIT", DefaultAdmissionWait, 0, maxAdmissionWait)
	c.ReadTimeout = e.dur("ROUTEAPI_READ_TIMEOUT", DefaultReadTimeout, minReadTimeout, maxReadTimeout)
}
