package api_test

import (
	"os"
	"testing"

	"github.com/oapi-codegen/runtime"

	"github.com/routeapi/routeapi/api"
)

// TestMain runs the package's tests with the JSON codec the binary installs
// (cmd/routeapi), so that they test what is served.
func TestMain(m *testing.M) {
	runtime.SetJSONCodec(api.JSONCodec)
	os.Exit(m.Run())
}
