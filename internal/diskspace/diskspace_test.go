package diskspace_test

import (
	"errors"
	"testing"

	"github.com/routeapi/routeapi/internal/diskspace"
)

func TestReserve(t *testing.T) {
	free := uint64(1000)
	r := diskspace.New(500, func() (uint64, error) { return free, nil })
	// Writes in progress count: two of 200 fit (1000-400 >= 500), a third does not.
	rel1, err := r.Acquire(200)
	if err != nil {
		t.Fatal(err)
	}
	rel2, err := r.Acquire(200)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Acquire(200); !errors.Is(err, diskspace.ErrLow) {
		t.Fatalf("third write: %v, want ErrLow", err)
	}
	rel1()
	rel1() // idempotent
	rel3, err := r.Acquire(200)
	if err != nil {
		t.Fatalf("after a release: %v", err)
	}
	rel2()
	rel3()
	// The boundary: exactly the reserve left after the write is admitted.
	rel, err := r.Acquire(500)
	if err != nil {
		t.Fatalf("write leaving exactly the reserve: %v", err)
	}
	rel()
	if _, err := r.Acquire(501); !errors.Is(err, diskspace.ErrLow) {
		t.Fatalf("write one byte into the reserve: %v, want ErrLow", err)
	}
	if st, _ := r.Check(); !st.Low || st.Free != 1000 || st.Min != 500 {
		t.Fatalf("check %+v after refusing 501 bytes, want low (a write that size is refused)", st)
	}
	rel, err = r.Acquire(10)
	if err != nil {
		t.Fatal(err)
	}
	rel()
	if st, _ := r.Check(); st.Low {
		t.Fatalf("check %+v after admitting a write, want not low", st)
	}
	// After a refused write of 200, Check says low until 200 fit again.
	free = 600
	if _, err := r.Acquire(200); !errors.Is(err, diskspace.ErrLow) {
		t.Fatalf("write of 200 with 100 above the reserve: %v, want ErrLow", err)
	}
	if st, _ := r.Check(); !st.Low {
		t.Fatalf("check %+v after a refusal, want low", st)
	}
	free = 700
	if st, _ := r.Check(); st.Low {
		t.Fatalf("check %+v with room for the refused write, want not low", st)
	}
	free = 500
	if st, _ := r.Check(); !st.Low {
		t.Fatalf("check %+v at the reserve, want low", st)
	}
	// Off: everything is admitted.
	off := diskspace.New(0, func() (uint64, error) { return 0, errors.New("not called") })
	if _, err := off.Acquire(1 << 40); err != nil {
		t.Fatal(err)
	}
	// A failing measurement refuses the write with the cause.
	bad := diskspace.New(1, func() (uint64, error) { return 0, errors.New("statfs broke") })
	if _, err := bad.Acquire(1); err == nil || errors.Is(err, diskspace.ErrLow) {
		t.Fatalf("failing statfs: %v", err)
	}
}

func TestStatfs(t *testing.T) {
	dir := t.TempDir()
	base, err := diskspace.Statfs(dir, nil)()
	if err != nil || base == 0 {
		t.Fatalf("statfs: %d, %v", base, err)
	}
	if _, err := diskspace.Statfs(dir+"/missing", nil)(); err == nil {
		t.Fatal("statfs of a missing directory succeeded")
	}
	withExtra, err := diskspace.Statfs(dir, func() uint64 { return 1 << 40 })()
	if err != nil || withExtra < 1<<40 {
		t.Fatalf("statfs with extra: %d, %v", withExtra, err)
	}
}
