package admission_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/admission"
)

func TestNewRefusesBadBudgets(t *testing.T) {
	for _, c := range []struct {
		size int64
		wait time.Duration
	}{{0, 0}, {-1, time.Second}, {10, -time.Second}} {
		if _, err := admission.New(c.size, c.wait); err == nil {
			t.Errorf("New(%d, %s): no error", c.size, c.wait)
		}
	}
}

// TestBudget: leases up to the size are granted at once; beyond it, Acquire
// refuses with ErrOverloaded (no wait configured); released bytes come back.
func TestBudget(t *testing.T) {
	b, err := admission.New(100, 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, err := b.Acquire(ctx, 60)
	if err != nil {
		t.Fatal(err)
	}
	c, err := b.Acquire(ctx, 40)
	if err != nil {
		t.Fatal(err)
	}
	if b.InUse() != 100 {
		t.Errorf("in use %d, want 100", b.InUse())
	}
	if _, err := b.Acquire(ctx, 1); !errors.Is(err, admission.ErrOverloaded) {
		t.Fatalf("over the budget: %v, want ErrOverloaded", err)
	}
	if b.Refused() != 1 {
		t.Errorf("refused %d, want 1", b.Refused())
	}
	// A zero weight (an empty body) always gets in.
	z, err := b.Acquire(ctx, 0)
	if err != nil {
		t.Fatalf("zero weight: %v", err)
	}
	z.Release()
	a.Release()
	a.Release() // twice: no effect
	if b.InUse() != 40 {
		t.Errorf("in use %d after a release, want 40", b.InUse())
	}
	if _, err := b.Acquire(ctx, 61); !errors.Is(err, admission.ErrOverloaded) {
		t.Fatalf("61 of 60 free: %v, want ErrOverloaded", err)
	}
	d, err := b.Acquire(ctx, 60)
	if err != nil {
		t.Fatal(err)
	}
	c.Release()
	d.Release()
	if b.InUse() != 0 {
		t.Errorf("in use %d, want 0", b.InUse())
	}
}

// TestOversizedWeightTakesTheWholeBudget: a lease above the size is clamped,
// so a request larger than the budget is admitted alone instead of never.
func TestOversizedWeightTakesTheWholeBudget(t *testing.T) {
	b, _ := admission.New(100, 0)
	l, err := b.Acquire(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	if l.Bytes() != 100 || b.InUse() != 100 {
		t.Errorf("lease %d, in use %d; want 100, 100", l.Bytes(), b.InUse())
	}
	l.Release()
}

// TestWaitThenAdmit: a waiter gets its lease when another one is released
// within the wait.
func TestWaitThenAdmit(t *testing.T) {
	b, _ := admission.New(100, time.Minute)
	ctx := context.Background()
	a, _ := b.Acquire(ctx, 100)
	got := make(chan error, 1)
	go func() {
		l, err := b.Acquire(ctx, 50)
		if err == nil {
			l.Release()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("admitted before the release: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	a.Release()
	if err := <-got; err != nil {
		t.Fatalf("waiter: %v", err)
	}
}

// TestWaitEnds: a waiter gives up with ErrOverloaded after the wait, and
// with the context's error when the caller goes away first.
func TestWaitEnds(t *testing.T) {
	b, _ := admission.New(100, 10*time.Millisecond)
	a, _ := b.Acquire(context.Background(), 100)
	defer a.Release()
	if _, err := b.Acquire(context.Background(), 1); !errors.Is(err, admission.ErrOverloaded) {
		t.Errorf("after the wait: %v, want ErrOverloaded", err)
	}
	long, _ := admission.New(100, time.Minute)
	x, _ := long.Acquire(context.Background(), 100)
	defer x.Release()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := long.Acquire(ctx, 1); !errors.Is(err, context.Canceled) || errors.Is(err, admission.ErrOverloaded) {
		t.Errorf("caller gone: %v, want context.Canceled", err)
	}
}

// TestHold: the bytes go back only when the handler and every holder let go.
func TestHold(t *testing.T) {
	b, _ := admission.New(100, 0)
	l, _ := b.Acquire(context.Background(), 70)
	ctx := admission.NewContext(context.Background(), l)
	if admission.FromContext(ctx) != l {
		t.Fatal("lease not in the context")
	}
	h1 := admission.FromContext(ctx).Hold()
	h2 := l.Hold()
	l.Release()
	h1()
	h1() // twice: no effect
	if b.InUse() != 70 {
		t.Fatalf("in use %d with a holder left, want 70", b.InUse())
	}
	h2()
	if b.InUse() != 0 {
		t.Fatalf("in use %d after every holder, want 0", b.InUse())
	}
	// No lease: Hold and Release do nothing.
	var none *admission.Lease
	none.Hold()()
	none.Release()
	if admission.FromContext(context.Background()) != nil {
		t.Error("a lease in an empty context")
	}
}
