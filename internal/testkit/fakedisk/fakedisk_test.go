package fakedisk_test

import (
	"testing"

	"github.com/routeapi/routeapi/internal/testkit/fakedisk"
)

func TestSet(t *testing.T) {
	d := fakedisk.New(1 << 30)
	if free, err := d.Free(); free != 1<<30 || err != nil {
		t.Fatalf("Free = %d, %v; want 1 GiB, nil", free, err)
	}
	d.Set(1 << 20)
	if free, err := d.Free(); free != 1<<20 || err != nil {
		t.Errorf("after Set: Free = %d, %v; want 1 MiB, nil", free, err)
	}
}
