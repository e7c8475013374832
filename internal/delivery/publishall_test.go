package delivery_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/delivery"
	"github.com/routeapi/routeapi/internal/events"
	"github.com/routeapi/routeapi/internal/inngest"
	"github.com/routeapi/routeapi/internal/spool"
	"github.com/routeapi/routeapi/internal/testkit/logbuf"
	"github.com/routeapi/routeapi/internal/testkit/pgtest"
)

// scriptAPI is an Event API client whose answer to each request is
// answer's (nil: 200 with "inngest-" plus each event id); it records the
// event ids of every request and how many were in flight at most.
type scriptAPI struct {
	answer   func(ctx context.Context, ids []string) error
	mu       sync.Mutex
	calls    [][]string
	inflight atomic.Int32
	maxIn    atomic.Int32
}

func (a *scriptAPI) Send(ctx context.Context, evs []json.RawMessage) ([]string, error) {
	n := a.inflight.Add(1)
	defer a.inflight.Add(-1)
	for {
		m := a.maxIn.Load()
		if n <= m || a.maxIn.CompareAndSwap(m, n) {
			break
		}
	}
	ids := make([]string, len(evs))
	for i, e := range evs {
		var ev struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(e, &ev); err != nil {
			return nil, err
		}
		ids[i] = ev.ID
	}
	a.mu.Lock()
	a.calls = append(a.calls, ids)
	a.mu.Unlock()
	if a.answer != nil {
		if err := a.answer(ctx, ids); err != nil {
			return nil, err
		}
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = "inngest-" + id
	}
	return out, nil
}

func (a *scriptAPI) requests() [][]string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.calls)
}

var (
	errDown    = fmt.Errorf("send: Inngest answered 503: %w", inngest.ErrUnavailable)
	errRefused = fmt.Errorf("send: Inngest answered 400 event name is reserved: %w", inngest.ErrRejected)
)

// refuseBad refuses every request that carries an event whose id holds
// "bad" (a 4xx for the whole request, as Inngest answers) and answers 503
// to one that carries "down".
func refuseBad(_ context.Context, ids []string) error {
	for _, id := range ids {
		if strings.Contains(id, "bad") {
			return errRefused
		}
	}
	for _, id := range ids {
		if strings.Contains(id, "down") {
			return errDown
		}
	}
	return nil
}

// countingSpool counts Put calls and the records of each, and can make Put fail.
type countingSpool struct {
	spool.Spool
	mu      sync.Mutex
	puts    [][]string
	putErr  error
	buries  [][]string
	buryErr error
}

func (s *countingSpool) Put(ctx context.Context, recs []spool.Record) error {
	s.mu.Lock()
	s.puts = append(s.puts, recordIDs(recs))
	err := s.putErr
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return s.Spool.Put(ctx, recs)
}

func (s *countingSpool) Bury(ctx context.Context, recs []spool.Record, reason string) error {
	s.mu.Lock()
	s.buries = append(s.buries, recordIDs(recs))
	err := s.buryErr
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return s.Spool.Bury(ctx, recs, reason)
}

func recordIDs(recs []spool.Record) []string {
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.EventID
	}
	return ids
}

// countMetrics counts what the publisher reports.
type countMetrics struct {
	mu      sync.Mutex
	spooled map[string]int
	dead    int
}

func (m *countMetrics) Sent(int, time.Duration, error) {}
func (m *countMetrics) Spooled(reason string, n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.spooled == nil {
		m.spooled = map[string]int{}
	}
	m.spooled[reason] += n
}
func (m *countMetrics) Delivered(int) {}
func (m *countMetrics) DeadLettered(n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.dead += n
}

// pubHarness is a Publisher over a scriptAPI, a real bolt spool (behind a
// countingSpool) and a Deliverer sharing its Sender.
type pubHarness struct {
	api     *scriptAPI
	base    spool.Spool // the real spool: bolt in t.TempDir, or pubOpts.spool
	sp      *countingSpool
	brk     *delivery.Breaker
	bat     *delivery.Batcher
	pub     *delivery.Publisher
	dlv     *delivery.Deliverer
	metrics *countMetrics
	log     *logbuf.Buffer
}

type pubOpts struct {
	batcher  delivery.BatcherConfig
	spoolMax int
	timeout  time.Duration
	// spool, when not nil, is the spool to use instead of a bolt file.
	spool spool.Spool
}

func newPubHarness(t *testing.T, o pubOpts) *pubHarness {
	t.Helper()
	if o.batcher.MaxEvents == 0 {
		o.batcher = delivery.BatcherConfig{Linger: time.Millisecond, MaxEvents: 10, MaxBytes: 1 << 20, MaxInFlight: 2, Timeout: 5 * time.Second}
	}
	if o.timeout == 0 {
		o.timeout = 5 * time.Second
	}
	h := &pubHarness{api: &scriptAPI{answer: refuseBad}, metrics: &countMetrics{}, log: &logbuf.Buffer{}}
	h.base = o.spool
	if h.base == nil {
		b, err := spool.OpenBolt(t.TempDir(), o.spoolMax, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		h.base = b
	}
	t.Cleanup(func() { _ = h.base.Close() })
	h.sp = &countingSpool{Spool: h.base}
	h.brk = delivery.NewBreaker(1, time.Hour, nil)
	s := delivery.NewSender(h.api, h.brk, nopMetrics{})
	h.bat = delivery.NewBatcher(o.batcher, s)
	t.Cleanup(h.bat.Close)
	log := slog.New(slog.NewJSONHandler(h.log, nil))
	h.dlv = delivery.NewDeliverer(delivery.DelivererConfig{Batch: 100, Poll: time.Hour, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond, Lease: time.Minute}, h.base, s, nopMetrics{}, log)
	h.pub = &delivery.Publisher{Batcher: h.bat, Spool: h.sp, Metrics: h.metrics, Log: log, Timeout: o.timeout, Now: time.Now}
	return h
}

// batch is a sendEvents batch of events with these ids, one request id.
func batch(ids ...string) []events.Encoded {
	evs := make([]events.Encoded, len(ids))
	for i, id := range ids {
		e := event(id)
		e.Data.RequestID = "req-batch"
		evs[i] = encoded(e)
	}
	return evs
}

func (h *pubHarness) stats(t *testing.T) spool.Stats {
	t.Helper()
	st, err := h.base.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// deliverAll runs the deliverer until the spool is empty (bounded) and
// returns the event ids Inngest got from it.
func (h *pubHarness) deliverAll(t *testing.T) []string {
	t.Helper()
	before := len(h.api.requests())
	for range 20 {
		if _, err := h.dlv.Once(context.Background()); err != nil {
			t.Fatal(err)
		}
		if h.stats(t).Depth == 0 {
			break
		}
	}
	if d := h.stats(t).Depth; d != 0 {
		t.Fatalf("depth %d after delivering, want 0", d)
	}
	var got []string
	for _, r := range h.api.requests()[before:] {
		got = append(got, r...)
	}
	return got
}

// Inngest accepts every event: one request of all of them, Inngest's ids in
// order, nothing spooled.
func TestPublishAllAccepted(t *testing.T) {
	h := newPubHarness(t, pubOpts{})
	r, err := h.pub.PublishAll(context.Background(), batch("e0", "e1", "e2"))
	if err != nil || r.Queued || !slices.Equal(r.IDs, []string{"inngest-e0", "inngest-e1", "inngest-e2"}) {
		t.Fatalf("PublishAll = %+v, %v; want Inngest's ids in order", r, err)
	}
	if reqs := h.api.requests(); fmt.Sprint(reqs) != "[[e0 e1 e2]]" {
		t.Errorf("requests %v, want one of the three events", reqs)
	}
	if len(h.sp.puts) != 0 || h.stats(t).Depth != 0 {
		t.Errorf("puts %v with everything accepted", h.sp.puts)
	}
}

// A batch is one request whatever MaxEvents and MaxBytes (which bound the
// coalescing of separate publishes), and never shares it with a publish.
func TestPublishAllIsOneRequest(t *testing.T) {
	// MaxEvents 3 and MaxBytes of about two events; MaxInFlight 1, held by a
	// first publish while singles and the batch queue up behind it.
	two := 2*len(enc("s0")) + 1
	h := newPubHarness(t, pubOpts{batcher: delivery.BatcherConfig{Linger: 10 * time.Millisecond, MaxEvents: 3, MaxBytes: two, MaxInFlight: 1, Timeout: 5 * time.Second}})
	gate := make(chan struct{})
	h.api.answer = func(_ context.Context, ids []string) error {
		if slices.Contains(ids, "first") {
			<-gate
		}
		return nil
	}
	ids := make([]string, 100)
	for i := range ids {
		ids[i] = fmt.Sprintf("e%02d", i)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	publish := func(id string) {
		r, err := h.pub.Publish(context.Background(), encoded(event(id)))
		if err == nil && (len(r.IDs) != 1 || r.IDs[0] != "inngest-"+id) {
			err = fmt.Errorf("Publish(%s) = %+v", id, r)
		}
		errs <- err
	}
	wg.Go(func() { publish("first") })
	for deadline := time.Now().Add(5 * time.Second); len(h.api.requests()) == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	for i := range 3 {
		wg.Go(func() { publish(fmt.Sprint("s", i)) })
	}
	var r delivery.Receipt
	var err error
	wg.Go(func() { r, err = h.pub.PublishAll(context.Background(), batch(ids...)) })
	for i := 3; i < 6; i++ {
		wg.Go(func() { publish(fmt.Sprint("s", i)) })
	}
	time.Sleep(20 * time.Millisecond) // let them queue behind the held request
	close(gate)
	wg.Wait()
	close(errs)
	for e := range errs {
		if e != nil {
			t.Error(e)
		}
	}
	if err != nil || r.Queued || len(r.IDs) != 100 || r.IDs[0] != "inngest-e00" || r.IDs[99] != "inngest-e99" {
		t.Fatalf("PublishAll = %d ids, queued %t, %v", len(r.IDs), r.Queued, err)
	}
	found := 0
	for _, req := range h.api.requests() {
		if slices.Contains(req, "e00") {
			found++
			if !slices.Equal(req, ids) {
				t.Errorf("the batch went as %v, want its 100 events alone in one request", req)
			}
		} else if len(req) > 2 {
			t.Errorf("request %v: more than MaxBytes allows for separate publishes", req)
		}
	}
	if found != 1 {
		t.Fatalf("the batch went in %d requests, want 1", found)
	}
}

// Inngest down: every event goes into the spool in one Put; the deliverer
// later delivers each with its id unchanged.
func TestPublishAllInngestDownQueuesAllInOnePut(t *testing.T) {
	h := newPubHarness(t, pubOpts{})
	h.api.answer = func(context.Context, []string) error { return errDown }
	r, err := h.pub.PublishAll(context.Background(), batch("e0", "e1", "e2"))
	if err != nil || !r.Queued || len(r.IDs) != 0 {
		t.Fatalf("PublishAll = %+v, %v; want queued", r, err)
	}
	if fmt.Sprint(h.sp.puts) != "[[e0 e1 e2]]" {
		t.Fatalf("puts %v, want one Put of the three events", h.sp.puts)
	}
	if n := len(h.api.requests()); n != 1 {
		t.Errorf("%d requests, want 1 (a 503 is not split)", n)
	}
	if h.metrics.spooled["unavailable"] != 3 || h.stats(t).Depth != 3 {
		t.Errorf("spooled %v, depth %d; want 3 unavailable", h.metrics.spooled, h.stats(t).Depth)
	}
	if !strings.Contains(h.log.String(), `"event_ids":["e0","e1","e2"]`) || !strings.Contains(h.log.String(), `"request_id":"req-batch"`) {
		t.Errorf("log %s: want the request id and the event ids", h.log.String())
	}

	h.api.answer = nil
	h.brk.Success() // Inngest is back
	if got := h.deliverAll(t); fmt.Sprint(got) != "[e0 e1 e2]" {
		t.Errorf("delivered %v, want e0 e1 e2 with their ids", got)
	}
}

// A Put that fails leaves nothing queued and says so (ErrNotQueued); a full
// spool says ErrFull.
func TestPublishAllPutFails(t *testing.T) {
	h := newPubHarness(t, pubOpts{})
	h.api.answer = func(context.Context, []string) error { return errDown }
	h.sp.putErr = errors.New("write spool.db: input/output error")
	r, err := h.pub.PublishAll(context.Background(), batch("e0", "e1"))
	if !errors.Is(err, delivery.ErrNotQueued) || r.Queued {
		t.Fatalf("PublishAll = %+v, %v; want ErrNotQueued", r, err)
	}
	if st := h.stats(t); st.Depth != 0 || st.Dead != 0 || len(h.metrics.spooled) != 0 {
		t.Errorf("stats %+v, spooled %v after a failed Put; want nothing", st, h.metrics.spooled)
	}
}

// A spool with room for fewer events than the batch takes none of them.
func TestPublishAllSpoolFull(t *testing.T) {
	h := newPubHarness(t, pubOpts{spoolMax: 5})
	h.api.answer = func(context.Context, []string) error { return errDown }
	if r, err := h.pub.PublishAll(context.Background(), batch("a0", "a1", "a2")); err != nil || !r.Queued {
		t.Fatalf("first batch: %+v, %v", r, err)
	}
	r, err := h.pub.PublishAll(context.Background(), batch("b0", "b1", "b2"))
	if !errors.Is(err, spool.ErrFull) || errors.Is(err, delivery.ErrNotQueued) || r.Queued {
		t.Fatalf("PublishAll = %+v, %v; want ErrFull", r, err)
	}
	if d := h.stats(t).Depth; d != 3 {
		t.Errorf("depth %d, want 3 (none of the second batch)", d)
	}
	// Room for exactly the batch: all of it.
	if r, err := h.pub.PublishAll(context.Background(), batch("c0", "c1")); err != nil || !r.Queued || h.stats(t).Depth != 5 {
		t.Fatalf("a batch that fits exactly: %+v, %v, depth %d", r, err, h.stats(t).Depth)
	}
}

// While the circuit is open the batch goes straight to the spool, in one Put.
func TestPublishAllCircuitOpen(t *testing.T) {
	h := newPubHarness(t, pubOpts{})
	h.brk.Failure() // threshold 1: open for an hour
	r, err := h.pub.PublishAll(context.Background(), batch("e0", "e1"))
	if err != nil || !r.Queued {
		t.Fatalf("PublishAll = %+v, %v; want queued", r, err)
	}
	if n := len(h.api.requests()); n != 0 {
		t.Errorf("%d requests while the circuit is open", n)
	}
	if fmt.Sprint(h.sp.puts) != "[[e0 e1]]" || h.metrics.spooled["circuit-open"] != 2 {
		t.Errorf("puts %v, spooled %v; want one Put of both, circuit-open", h.sp.puts, h.metrics.spooled)
	}
}

// One event Inngest refuses: the batch is split, the refused event goes to
// the dead letters, the others are accepted; the answer is Queued (the
// batch is not all accepted) and nothing is spooled.
func TestPublishAllOneRefused(t *testing.T) {
	h := newPubHarness(t, pubOpts{})
	r, err := h.pub.PublishAll(context.Background(), batch("e0", "bad1", "e2"))
	if err != nil || !r.Queued {
		t.Fatalf("PublishAll = %+v, %v; want queued", r, err)
	}
	reqs := h.api.requests()
	if len(reqs) != 4 || fmt.Sprint(reqs[0]) != "[e0 bad1 e2]" {
		t.Fatalf("requests %v, want the batch then each event alone", reqs)
	}
	st := h.stats(t)
	if st.Dead != 1 || st.Depth != 0 || len(h.sp.puts) != 0 || fmt.Sprint(h.sp.buries) != "[[bad1]]" || h.metrics.dead != 1 {
		t.Fatalf("stats %+v, puts %v, buries %v; want bad1 dead and nothing queued", st, h.sp.puts, h.sp.buries)
	}
	if h.brk.State() != delivery.Closed {
		t.Errorf("breaker %v after refusals, want closed", h.brk.State())
	}
	if want := `"msg":"Inngest refused an event of a batch; it is in the dead letters (routeapi spool replay sends it again)","request_id":"req-batch","event_id":"bad1"`; !strings.Contains(h.log.String(), want) {
		t.Errorf("log %s\nwant a line with %s", h.log.String(), want)
	}
}

// Refused and unavailable in one batch: the refused are buried (one Bury
// per cause), every other event not accepted goes in one Put.
func TestPublishAllRefusedAndDown(t *testing.T) {
	h := newPubHarness(t, pubOpts{})
	r, err := h.pub.PublishAll(context.Background(), batch("e0", "bad1", "down2", "bad3", "down4"))
	if err != nil || !r.Queued {
		t.Fatalf("PublishAll = %+v, %v; want queued", r, err)
	}
	if fmt.Sprint(h.sp.buries) != "[[bad1 bad3]]" || fmt.Sprint(h.sp.puts) != "[[down2 down4]]" {
		t.Fatalf("buries %v, puts %v; want [bad1 bad3] buried and [down2 down4] in one Put", h.sp.buries, h.sp.puts)
	}
	if h.metrics.spooled["unavailable"] != 2 || h.metrics.dead != 2 {
		t.Errorf("spooled %v, dead %d", h.metrics.spooled, h.metrics.dead)
	}
	for _, want := range []string{
		`"level":"ERROR","msg":"Inngest refused 2 events (each sent alone); they are in the dead letters (routeapi spool replay sends them again)","request_id":"req-batch","event_ids":["bad1","bad3"]`,
		`"level":"WARN","msg":"events not published at once; spooling them","request_id":"req-batch","event_ids":["down2","down4"],"reason":"unavailable"`,
	} {
		if !strings.Contains(h.log.String(), want) {
			t.Errorf("log %s\nwant a line with %s", h.log.String(), want)
		}
	}
	h.api.answer = nil
	h.brk.Success()
	if got := h.deliverAll(t); fmt.Sprint(got) != "[down2 down4]" {
		t.Errorf("delivered %v, want down2 down4", got)
	}
}

// Refused events that cannot be dead-lettered: ErrNotQueued, and the events
// to queue are not queued either.
func TestPublishAllRefusedNotBuried(t *testing.T) {
	h := newPubHarness(t, pubOpts{})
	h.sp.buryErr = errors.New("write spool.db: input/output error")
	r, err := h.pub.PublishAll(context.Background(), batch("bad0", "down1"))
	if !errors.Is(err, delivery.ErrNotQueued) || r.Queued {
		t.Fatalf("PublishAll = %+v, %v; want ErrNotQueued", r, err)
	}
	if len(h.sp.puts) != 0 || h.stats(t).Depth != 0 {
		t.Errorf("puts %v after a failed Bury, want none", h.sp.puts)
	}
}

// No answer within the Publisher's Timeout: every event is spooled
// ("timeout"); the caller's own cancellation does not cut a send short.
func TestPublishAllTimeout(t *testing.T) {
	h := newPubHarness(t, pubOpts{timeout: 50 * time.Millisecond})
	release := make(chan struct{})
	h.api.answer = func(ctx context.Context, _ []string) error {
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("send: %w", inngest.ErrTimeout)
		}
	}
	r, err := h.pub.PublishAll(context.Background(), batch("e0", "e1"))
	close(release)
	if err != nil || !r.Queued {
		t.Fatalf("PublishAll = %+v, %v; want queued", r, err)
	}
	if fmt.Sprint(h.sp.puts) != "[[e0 e1]]" || h.metrics.spooled["timeout"] != 2 {
		t.Fatalf("puts %v, spooled %v; want both in one Put, timeout", h.sp.puts, h.metrics.spooled)
	}

	h2 := newPubHarness(t, pubOpts{})
	h2.api.answer = func(ctx context.Context, _ []string) error {
		time.Sleep(20 * time.Millisecond)
		return ctx.Err()
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the caller went away
	r, err = h2.pub.PublishAll(ctx, batch("e0", "e1"))
	if err != nil || r.Queued || len(r.IDs) != 2 {
		t.Fatalf("PublishAll after the caller left = %+v, %v; want accepted", r, err)
	}
}

// A batch waits for the MaxInFlight bound like any publish, and the
// batcher's idle accounting stays right: a publish queued behind a batch
// in flight goes as soon as it ends, not after the linger.
func TestPublishAllMaxInFlight(t *testing.T) {
	h := newPubHarness(t, pubOpts{batcher: delivery.BatcherConfig{Linger: time.Hour, MaxEvents: 10, MaxBytes: 1 << 20, MaxInFlight: 1, Timeout: 5 * time.Second}})
	gate := make(chan struct{})
	started := make(chan struct{}, 10)
	h.api.answer = func(_ context.Context, ids []string) error {
		started <- struct{}{}
		<-gate
		return nil
	}
	var wg sync.WaitGroup
	var got [3]delivery.Receipt
	wg.Go(func() { got[0], _ = h.pub.PublishAll(context.Background(), batch("a0", "a1")) })
	<-started
	wg.Go(func() { got[1], _ = h.pub.PublishAll(context.Background(), batch("b0", "b1")) })
	wg.Go(func() { got[2], _ = h.pub.Publish(context.Background(), encoded(event("c"))) })
	time.Sleep(20 * time.Millisecond)
	if n := len(h.api.requests()); n != 1 {
		t.Fatalf("%d requests while MaxInFlight 1 is taken, want 1", n)
	}
	close(gate)
	wg.Wait()
	for i, r := range got {
		if r.Queued || len(r.IDs) == 0 {
			t.Errorf("publish %d: %+v, want accepted", i, r)
		}
	}
	if m := h.api.maxIn.Load(); m != 1 {
		t.Errorf("%d requests in flight at once, want at most 1", m)
	}
	if n := len(h.api.requests()); n != 3 {
		t.Errorf("requests %v, want 3 (two batches and the publish)", h.api.requests())
	}
}

// After Close the batch is spooled ("shutting-down").
func TestPublishAllAfterClose(t *testing.T) {
	h := newPubHarness(t, pubOpts{})
	h.bat.Close()
	r, err := h.pub.PublishAll(context.Background(), batch("e0", "e1"))
	if err != nil || !r.Queued || h.metrics.spooled["shutting-down"] != 2 {
		t.Fatalf("PublishAll = %+v, %v, spooled %v; want queued, shutting-down", r, err, h.metrics.spooled)
	}
}

// An event that cannot be encoded never reaches PublishAll (its caller
// encodes each event first, events.EncodeEvent, and refuses the batch),
// and an empty batch is refused: nothing is sent either way.
func TestPublishAllEncodingError(t *testing.T) {
	h := newPubHarness(t, pubOpts{})
	e := event("e1")
	e.Name = "" // inngestgo.GenericEvent.Validate: a name is required
	if _, err := events.EncodeEvent(e); err == nil || !strings.Contains(err.Error(), "e1") {
		t.Fatalf("err = %v, want e1's encoding error", err)
	}
	if _, err := h.pub.PublishAll(context.Background(), nil); err == nil {
		t.Fatal("an empty batch published")
	}
	if n := len(h.api.requests()); n != 0 || len(h.sp.puts) != 0 {
		t.Errorf("%d requests, puts %v", n, h.sp.puts)
	}
}

// The same with the PostgreSQL spool: the batch is one transaction (all of
// it, or with no room for all of it, none), and the deliverer, here on
// another replica's spool handle, delivers each event with its id.
func TestPublishAllPostgresSpool(t *testing.T) {
	pg := pgtest.Start(t)
	ctx := context.Background()
	open := func() spool.Spool {
		sp, err := spool.OpenPostgres(ctx, pg.URL, 5)
		if err != nil {
			t.Fatal(err)
		}
		return sp
	}
	h := newPubHarness(t, pubOpts{spool: open()})
	h.api.answer = func(context.Context, []string) error { return errDown }
	if r, err := h.pub.PublishAll(ctx, batch("a0", "a1", "a2")); err != nil || !r.Queued {
		t.Fatalf("PublishAll = %+v, %v; want queued", r, err)
	}
	if fmt.Sprint(h.sp.puts) != "[[a0 a1 a2]]" {
		t.Fatalf("puts %v, want one Put of the three", h.sp.puts)
	}
	r, err := h.pub.PublishAll(ctx, batch("b0", "b1", "b2"))
	if !errors.Is(err, spool.ErrFull) || r.Queued {
		t.Fatalf("PublishAll with room for 2 of 3 = %+v, %v; want ErrFull", r, err)
	}
	var rows int
	if err := pgtest.Connect(t, pg.URL).QueryRow(ctx, `SELECT count(*) FROM routeapi_spool`).Scan(&rows); err != nil || rows != 3 {
		t.Fatalf("%d rows, %v; want 3 (none of the batch that did not fit)", rows, err)
	}

	other := newPubHarness(t, pubOpts{spool: open()}) // another replica
	if got := other.deliverAll(t); fmt.Sprint(got) != "[a0 a1 a2]" {
		t.Errorf("delivered %v, want a0 a1 a2 with their ids", got)
	}
}
