package api

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/routeapi/routeapi/internal/inngest"
)

// TestToProblemInngestErrors pins the problem each of Inngest's errors
// becomes, bare and wrapped as the batcher and the client wrap them: kind,
// status, Retry-After and the exact detail a caller reads. Anything else is
// an internal error, even though inngest.Classify calls it Unavailable.
func TestToProblemInngestErrors(t *testing.T) {
	const (
		timeout     = "Inngest did not accept the event in time. Retry later; with the same Idempotency-Key a retry is deduplicated."
		refused     = "Inngest refused the event. Retry later."
		unavailable = "Inngest is unavailable. Retry later."
	)
	for _, tc := range []struct {
		err        error
		kind       kind
		wantDetail string
	}{
		{inngest.ErrTimeout, kindPublishFailed, timeout},
		{fmt.Errorf("batch: %w: %w", context.DeadlineExceeded, inngest.ErrTimeout), kindPublishFailed, timeout},
		{inngest.ErrRejected, kindPublishFailed, refused},
		{fmt.Errorf("event API: status 400: %w", inngest.ErrRejected), kindPublishFailed, refused},
		{inngest.ErrUnavailable, kindPublishFailed, unavailable},
		{fmt.Errorf("event API: dial tcp: %w", inngest.ErrUnavailable), kindPublishFailed, unavailable},
		{errors.New("inngest said something odd"), kindInternal, detailInternal},
	} {
		p := toProblem(tc.err)
		if p.kind != tc.kind || p.detail != tc.wantDetail || !errors.Is(p, tc.err) {
			t.Errorf("toProblem(%v) = %s (status %d) %q; want %s %q", tc.err, p.kind.slug, p.kind.status, p.detail, tc.kind.slug, tc.wantDetail)
		}
	}
	if kindPublishFailed.status != 503 || kindPublishFailed.retryAfter != 5 || kindPublishFailed.slug != "publish-failed" {
		t.Errorf("publish-failed is %+v; want 503 with Retry-After 5", kindPublishFailed)
	}
}
