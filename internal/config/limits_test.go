package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/config"
)

func TestLoadLimits(t *testing.T) {
	c := load(t, minimal)
	if c.MaxInflightBytes != config.DefaultMaxInflightBytes || c.AdmissionWait != config.DefaultAdmissionWait || c.ReadTimeout != config.DefaultReadTimeout {
		t.Errorf("defaults: %d bytes, wait %s, read timeout %s", c.MaxInflightBytes, c.AdmissionWait, c.ReadTimeout)
	}
	c = load(t, with(minimal, "ROUTEAPI_MAX_INFLIGHT_BYTES", "3145728", "ROUTEAPI_ADMISSION_WAIT", "0s", "ROUTEAPI_READ_TIMEOUT", "2s"))
	if c.MaxInflightBytes != 3<<20 || c.AdmissionWait != 0 || c.ReadTimeout != 2*time.Second {
		t.Errorf("set: %d bytes, wait %s, read timeout %s", c.MaxInflightBytes, c.AdmissionWait, c.ReadTimeout)
	}
	for _, kv := range [][2]string{
		{"ROUTEAPI_MAX_INFLIGHT_BYTES", "3145727"}, // below one body of the largest limit
		{"ROUTEAPI_MAX_INFLIGHT_BYTES", "64MiB"},
		{"ROUTEAPI_MAX_INFLIGHT_BYTES", "-1"},
		{"ROUTEAPI_MAX_INFLIGHT_BYTES", "1099511627777"},
		{"ROUTEAPI_ADMISSION_WAIT", "-1s"},
		{"ROUTEAPI_ADMISSION_WAIT", "31s"},
		{"ROUTEAPI_ADMISSION_WAIT", "1"},
		{"ROUTEAPI_READ_TIMEOUT", "0s"},
		{"ROUTEAPI_READ_TIMEOUT", "11m"},
	} {
		_, err := config.Load(env(with(minimal, kv[0], kv[1])))
		if err == nil || !strings.Contains(err.Error(), kv[0]) {
			t.Errorf("%s=%s: err = %v, want one naming it", kv[0], kv[1], err)
		}
	}
}
