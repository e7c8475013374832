package idempotency

// ErrNotHeld is errNotHeld, for the tests of package idempotency_test.
var ErrNotHeld = errNotHeld
