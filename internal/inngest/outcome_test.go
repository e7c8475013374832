package inngest

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// TestClassify: every error becomes one outcome, wrapped or joined; an
// error that is none of Inngest's is Unavailable; the labels are the
// metrics' and spool's (routeapi_publish_duration_seconds{outcome},
// routeapi_spooled_events_total{reason}), and the predicates say what
// delivery does with each.
func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		err                 error
		want                Outcome
		label               string
		retryable, answered bool
	}{
		{nil, OK, "ok", false, true},
		{ErrRejected, Rejected, "rejected", false, true},
		{fmt.Errorf("send 3 events: Inngest answered 400 bad: %w", ErrRejected), Rejected, "rejected", false, true},
		{ErrUnavailable, Unavailable, "unavailable", true, false},
		{errors.Join(ErrUnavailable), Unavailable, "unavailable", true, false},
		{ErrTimeout, Timeout, "timeout", true, false},
		{fmt.Errorf("batch: %w: %w", context.DeadlineExceeded, ErrTimeout), Timeout, "timeout", true, false},
		{errors.New("batcher closed"), Unavailable, "unavailable", true, false},
		// Rejected is checked first, as every caller did before.
		{errors.Join(ErrTimeout, ErrRejected), Rejected, "rejected", false, true},
	} {
		o := Classify(tc.err)
		if o != tc.want || o.String() != tc.label || o.Retryable() != tc.retryable || o.Answered() != tc.answered {
			t.Errorf("Classify(%v) = %v (%q, retryable %t, answered %t); want %v (%q, %t, %t)",
				tc.err, int(o), o.String(), o.Retryable(), o.Answered(), int(tc.want), tc.label, tc.retryable, tc.answered)
		}
	}
}

// TestStatusError: 2xx accepted; 408, 425, 429 and 5xx retried; every other
// 3xx and 4xx refused, at each boundary.
func TestStatusError(t *testing.T) {
	for status, want := range map[int]error{
		200: nil, 201: nil, 299: nil,
		300: ErrRejected, 302: ErrRejected, 399: ErrRejected,
		400: ErrRejected, 401: ErrRejected, 407: ErrRejected, 408: ErrUnavailable, 409: ErrRejected, 413: ErrRejected,
		422: ErrRejected, 424: ErrRejected, 425: ErrUnavailable, 426: ErrRejected, 428: ErrRejected, 429: ErrUnavailable,
		430: ErrRejected, 499: ErrRejected,
		500: ErrUnavailable, 502: ErrUnavailable, 503: ErrUnavailable, 599: ErrUnavailable,
	} {
		if got := statusError(status); !errors.Is(got, want) {
			t.Errorf("statusError(%d) = %v, want %v", status, got, want)
		}
	}
}
