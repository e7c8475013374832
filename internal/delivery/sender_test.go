package delivery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/inngest"
	"github.com/routeapi/routeapi/internal/spool"
)

// TestBatchBytes: an event joins while the events and the commas between
// them stay within max, at the boundary exactly; the first always joins;
// max <= 0 is no limit.
func TestBatchBytes(t *testing.T) {
	b := batchBytes{max: 10}
	if !b.fits(50) {
		t.Fatal("the first event of a batch does not fit")
	}
	b.add(4) // "abcd"
	if !b.fits(5) || b.fits(6) {
		t.Fatalf("after 4 bytes of max 10: fits(5) %t, fits(6) %t; want true, false (4 + comma + 5 = 10)", b.fits(5), b.fits(6))
	}
	b.add(5)
	if b.size != 10 || b.fits(0) {
		t.Fatalf("size %d, fits(0) %t; want 10 and full", b.size, b.fits(0))
	}
	b.reset()
	if b.size != 0 || !b.fits(11) {
		t.Fatal("reset did not empty the batch")
	}
	for _, max := range []int{0, -1} {
		u := batchBytes{max: max}
		u.add(1 << 30)
		if !u.fits(1 << 30) {
			t.Errorf("max %d limits the batch", max)
		}
	}
	// The byte accounting is what the Event API gets, less the brackets.
	evs := []json.RawMessage{json.RawMessage(`{"a":1}`), json.RawMessage(`{}`), json.RawMessage(`"x"`)}
	c := batchBytes{}
	for _, e := range evs {
		c.add(len(e))
	}
	array := "[" + string(evs[0]) + "," + string(evs[1]) + "," + string(evs[2]) + "]"
	if want := len(array) - 2; c.size != want {
		t.Errorf("size %d, want %d", c.size, want)
	}
}

// fakeClient refuses (a 4xx) every request that carries an event holding
// "bad", answers the others with refuse or "id-" plus each event, and
// records the requests.
type fakeClient struct {
	mu    sync.Mutex
	err   error // when not nil, every request ends in it
	calls [][]string
	ctxs  []context.Context
}

func (c *fakeClient) Send(ctx context.Context, evs []json.RawMessage) ([]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var call, ids []string
	bad := false
	for _, e := range evs {
		call = append(call, string(e))
		ids = append(ids, "id-"+string(e))
		bad = bad || strings.Contains(string(e), "bad")
	}
	c.calls = append(c.calls, call)
	c.ctxs = append(c.ctxs, ctx)
	switch {
	case c.err != nil:
		return nil, c.err
	case bad:
		return nil, fmt.Errorf("send %d events: Inngest answered 400: %w", len(evs), inngest.ErrRejected)
	}
	return ids, nil
}

// fakeMetrics records what it is told.
type fakeMetrics struct {
	mu       sync.Mutex
	sent     []string // "n outcome" per request
	dead     int
	spooled  map[string]int
	delivers int
}

func (m *fakeMetrics) Sent(n int, _ time.Duration, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, fmt.Sprint(n, " ", inngest.Classify(err)))
}
func (m *fakeMetrics) Spooled(reason string, n int) { m.spooled[reason] += n }
func (m *fakeMetrics) Delivered(n int)              { m.delivers += n }
func (m *fakeMetrics) DeadLettered(n int)           { m.dead += n }

func raws(s ...string) []json.RawMessage {
	out := make([]json.RawMessage, len(s))
	for i, e := range s {
		out[i] = json.RawMessage(e)
	}
	return out
}

// TestSenderSplitsARefusedBatch: a refused batch of several events is sent
// again event by event (in order when sequential, all at once when
// parallel) and each event's outcome is told once; every request is
// counted and a refusal closes the breaker. A lone refused event and a
// batch that is not refused are not split.
func TestSenderSplitsARefusedBatch(t *testing.T) {
	for _, parallel := range []bool{false, true} {
		t.Run(fmt.Sprint("parallel=", parallel), func(t *testing.T) {
			c, m := &fakeClient{}, &fakeMetrics{}
			s := NewSender(c, NewBreaker(1, time.Hour, nil), m)
			var mu sync.Mutex
			var got []string
			s.send(context.Background(), raws(`"a"`, `"bad"`, `"c"`), sendOpts{parallel: parallel}, func(lo, hi int, ids []string, err error) {
				mu.Lock()
				defer mu.Unlock()
				got = append(got, fmt.Sprint(lo, hi, ids, inngest.Classify(err)))
			})
			slices.Sort(got)
			if want := []string{"0 1 [id-\"a\"] ok", "1 2 [] rejected", "2 3 [id-\"c\"] ok"}; !slices.Equal(got, want) {
				t.Errorf("told %q, want %q", got, want)
			}
			if len(c.calls) != 4 || len(c.calls[0]) != 3 {
				t.Fatalf("requests %q, want the batch then each event", c.calls)
			}
			if !parallel && fmt.Sprint(c.calls[1:]) != `[["a"] ["bad"] ["c"]]` {
				t.Errorf("sequential resends %q, want in order", c.calls[1:])
			}
			sent := slices.Clone(m.sent)
			slices.Sort(sent)
			if want := []string{"1 ok", "1 ok", "1 rejected", "3 rejected"}; !slices.Equal(sent, want) {
				t.Errorf("metrics %q, want %q", sent, want)
			}
			if s.breaker.State() != Closed {
				t.Errorf("breaker %v after refusals, want closed", s.breaker.State())
			}
		})
	}

	c := &fakeClient{}
	s := NewSender(c, NewBreaker(1, time.Hour, nil), &fakeMetrics{})
	for _, evs := range [][]json.RawMessage{raws(`"bad"`), raws(`"a"`, `"b"`)} {
		c.calls = nil
		n := 0
		s.send(context.Background(), evs, sendOpts{parallel: true}, func(lo, hi int, _ []string, _ error) {
			n++
			if lo != 0 || hi != len(evs) {
				t.Errorf("told %d..%d, want the whole batch", lo, hi)
			}
		})
		if n != 1 || len(c.calls) != 1 {
			t.Errorf("%q: told %d times after %d requests, want once after one", evs, n, len(c.calls))
		}
	}
}

// TestSenderFeedsTheBreaker: unavailable and timed out count as failures
// (not split: Inngest gave no verdict), a 2xx or 4xx as a success.
func TestSenderFeedsTheBreaker(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want State
	}{
		{fmt.Errorf("503: %w", inngest.ErrUnavailable), Open},
		{fmt.Errorf("slow: %w", inngest.ErrTimeout), Open},
		{errors.New("dial tcp: connection refused"), Open},
	} {
		c := &fakeClient{err: tc.err}
		s := NewSender(c, NewBreaker(1, time.Hour, nil), &fakeMetrics{})
		s.send(context.Background(), raws(`"a"`, `"b"`), sendOpts{parallel: true}, func(int, int, []string, error) {})
		if s.breaker.State() != tc.want || len(c.calls) != 1 {
			t.Errorf("%v: breaker %v after %d requests, want %v after 1", tc.err, s.breaker.State(), len(c.calls), tc.want)
		}
		c.err = nil
		s.breaker.openedAt = time.Time{} // let the probe through
		if !s.allow() {
			t.Fatal("no probe")
		}
		s.send(context.Background(), raws(`"bad"`), sendOpts{}, func(int, int, []string, error) {})
		if s.breaker.State() != Closed {
			t.Errorf("a refused probe left the breaker %v, want closed", s.breaker.State())
		}
	}
}

// TestSenderTimeout: each request, the resends of a split batch too, gets
// its own deadline when the caller asks for one, and none otherwise.
func TestSenderTimeout(t *testing.T) {
	c := &fakeClient{}
	s := NewSender(c, NewBreaker(1, time.Hour, nil), &fakeMetrics{})
	s.send(context.Background(), raws(`"a"`, `"bad"`), sendOpts{timeout: time.Hour, parallel: true}, func(int, int, []string, error) {})
	s.send(context.Background(), raws(`"a"`), sendOpts{}, func(int, int, []string, error) {})
	if len(c.ctxs) != 4 {
		t.Fatalf("%d requests, want 4", len(c.ctxs))
	}
	for i, ctx := range c.ctxs {
		_, has := ctx.Deadline()
		if has != (i < 3) {
			t.Errorf("request %d %q: deadline %t, want %t", i, c.calls[i], has, i < 3)
		}
	}
}

// buryOnly is a spool that can only bury, or fail to.
type buryOnly struct {
	spool.Spool
	err    error
	buried []string
	reason string
}

func (b *buryOnly) Bury(_ context.Context, recs []spool.Record, reason string) error {
	if b.err != nil {
		return b.err
	}
	for _, r := range recs {
		b.buried = append(b.buried, r.EventID)
	}
	b.reason = reason
	return nil
}

// TestDeadLetters: bury, count, log with the caller's attributes first; a
// spool that cannot bury gets its error back and nothing is counted or
// logged.
func TestDeadLetters(t *testing.T) {
	var logs bytes.Buffer
	sp, m := &buryOnly{}, &fakeMetrics{}
	dl := deadLetters{sp, m, slog.New(slog.NewTextHandler(&logs, nil))}
	cause := fmt.Errorf("Inngest answered 400 bad: %w", inngest.ErrRejected)
	if err := dl.bury(context.Background(), []spool.Record{{EventID: "e1"}}, cause, "the event", "request_id", "r1"); err != nil {
		t.Fatal(err)
	}
	line := logs.String()
	if fmt.Sprint(sp.buried) != "[e1]" || sp.reason != cause.Error() || m.dead != 1 ||
		!strings.Contains(line, `level=ERROR msg="Inngest refused the event; it is in the dead letters (routeapi spool replay sends it again)" request_id=r1 event_id=e1 err=`) {
		t.Fatalf("buried %v (%q), counted %d, logged %q", sp.buried, sp.reason, m.dead, line)
	}
	logs.Reset()
	sp.err = errors.New("write spool.db: input/output error")
	if err := dl.bury(context.Background(), []spool.Record{{EventID: "e2"}}, cause, "a spooled event"); !errors.Is(err, sp.err) {
		t.Fatalf("bury = %v, want the spool's error", err)
	}
	if m.dead != 1 || logs.Len() != 0 {
		t.Errorf("a failed bury counted (%d) or logged (%q)", m.dead, logs.String())
	}
}

// TestDelivererSplitsARefusedBatch: of a spooled batch Inngest refuses,
// the event it refuses alone is dead-lettered and the others are delivered,
// each once.
func TestDelivererSplitsARefusedBatch(t *testing.T) {
	sp, err := spool.OpenBolt(t.TempDir(), 100, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sp.Close() }()
	now := time.Now()
	var recs []spool.Record
	for _, id := range []string{"a", "bad", "c"} {
		recs = append(recs, spool.Record{EventID: id, Event: json.RawMessage(`"` + id + `"`), NextAt: now, EnqueuedAt: now})
	}
	if err := sp.Put(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	c, m := &fakeClient{}, &fakeMetrics{}
	d := NewDeliverer(DelivererConfig{Batch: 10, Poll: time.Hour, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond, Lease: time.Minute},
		sp, NewSender(c, NewBreaker(1, time.Hour, nil), m), m, slog.New(slog.DiscardHandler))
	more, err := d.Once(context.Background())
	if err != nil || more {
		t.Fatalf("Once = %t, %v", more, err)
	}
	st, _ := sp.Stats(context.Background())
	if st.Depth != 0 || st.Dead != 1 || m.dead != 1 || m.delivers != 2 {
		t.Fatalf("depth %d, dead %d (counted %d), delivered %d; want 0, 1, 2", st.Depth, st.Dead, m.dead, m.delivers)
	}
	if fmt.Sprint(c.calls) != `[["a" "bad" "c"] ["a"] ["bad"] ["c"]]` {
		t.Errorf("requests %q", c.calls)
	}
	if dl, _ := sp.DeadLetters(context.Background(), 10); len(dl) != 1 || dl[0].EventID != "bad" {
		t.Errorf("dead letters %+v, want bad", dl)
	}
}
