package delivery_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/admission"
	"github.com/routeapi/routeapi/internal/delivery"
	"github.com/routeapi/routeapi/internal/events"
	"github.com/routeapi/routeapi/internal/inngest"
	"github.com/routeapi/routeapi/internal/spool"
)

// eventAPI is an httptest Event API stand-in: it answers with status (200
// with one id per event by default) and records the event ids per request.
type eventAPI struct {
	srv    *httptest.Server
	status atomic.Int32
	mu     sync.Mutex
	calls  [][]string
	gate   chan struct{} // when not nil, requests wait for it
}

func newEventAPI(t *testing.T) *eventAPI {
	a := &eventAPI{}
	a.status.Store(200)
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var evs []struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(body, &evs)
		ids := make([]string, len(evs))
		for i, e := range evs {
			ids[i] = e.ID
		}
		a.mu.Lock()
		a.calls = append(a.calls, ids)
		gate := a.gate
		a.mu.Unlock()
		if gate != nil {
			<-gate
		}
		status := int(a.status.Load())
		w.WriteHeader(status)
		if status != 200 {
			_, _ = fmt.Fprintf(w, `{"status":%d,"error":"nope"}`, status)
			return
		}
		out := make([]string, len(ids))
		for i, id := range ids {
			out[i] = "inngest-" + id
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"ids": out, "status": 200})
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *eventAPI) requests() [][]string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([][]string(nil), a.calls...)
}

func client(t *testing.T, url string) *inngest.Client {
	c, err := inngest.NewClient(inngest.ClientConfig{EventKey: "secret-key", BaseURL: url, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sender is a Sender to url with a breaker and metrics of its own, for the
// batcher tests (which do not look at either).
func sender(t *testing.T, url string) *delivery.Sender {
	return delivery.NewSender(client(t, url), delivery.NewBreaker(1, time.Second, nil), nopMetrics{})
}

func enc(id string) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"id":%q,"name":"test/e","data":{},"ts":1}`, id))
}

type nopMetrics struct{}

func (nopMetrics) Sent(int, time.Duration, error) {}
func (nopMetrics) Spooled(string, int)            {}
func (nopMetrics) Delivered(int)                  {}
func (nopMetrics) DeadLettered(int)               {}

// N concurrent publishes make fewer than N Event API requests, and each
// caller gets the id for its own event.
func TestBatcherCoalesces(t *testing.T) {
	api := newEventAPI(t)
	gate := make(chan struct{})
	api.gate = gate
	b := delivery.NewBatcher(delivery.BatcherConfig{Linger: 50 * time.Millisecond, MaxEvents: 100, MaxBytes: 1 << 20, MaxInFlight: 4, Timeout: 10 * time.Second}, sender(t, api.srv.URL))
	defer b.Close()

	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, n)
	first := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			if i > 0 {
				<-first // the rest arrive while the first request is held
			}
			id := fmt.Sprintf("e%d", i)
			got, err := b.Submit(context.Background(), enc(id))
			if err == nil && got != "inngest-"+id {
				err = fmt.Errorf("event %s got id %q", id, got)
			}
			errs <- err
		})
		if i == 0 {
			deadline := time.Now().Add(5 * time.Second)
			for len(api.requests()) == 0 && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			close(first)
		}
	}
	time.Sleep(20 * time.Millisecond) // let the others queue behind the held request
	close(gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	reqs := api.requests()
	total := 0
	for _, r := range reqs {
		total += len(r)
	}
	if total != n || len(reqs) >= n {
		t.Fatalf("%d events in %d requests; want %d events in fewer than %d requests", total, len(reqs), n, n)
	}
}

func TestBatcherRespectsMaxEventsAndBytes(t *testing.T) {
	api := newEventAPI(t)
	api.gate = make(chan struct{})
	b := delivery.NewBatcher(delivery.BatcherConfig{Linger: time.Second, MaxEvents: 3, MaxBytes: 1 << 20, MaxInFlight: 1, Timeout: 10 * time.Second}, sender(t, api.srv.URL))
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() { _, _ = b.Submit(context.Background(), enc(fmt.Sprint(i))) })
	}
	time.Sleep(50 * time.Millisecond)
	close(api.gate)
	wg.Wait()
	b.Close()
	for _, r := range api.requests() {
		if len(r) > 3 {
			t.Errorf("a request carried %d events, max 3", len(r))
		}
	}
}

// A 4xx for a batch is retried event by event, so each caller learns its own fate.
func TestBatcherRejected(t *testing.T) {
	api := newEventAPI(t)
	api.status.Store(400)
	b := delivery.NewBatcher(delivery.BatcherConfig{Linger: time.Millisecond, MaxEvents: 10, MaxBytes: 1 << 20, MaxInFlight: 2, Timeout: 5 * time.Second}, sender(t, api.srv.URL))
	defer b.Close()
	if _, err := b.Submit(context.Background(), enc("x")); !errors.Is(err, inngest.ErrRejected) {
		t.Fatalf("err = %v, want ErrRejected", err)
	}
}

func TestBreaker(t *testing.T) {
	var states []delivery.State
	b := delivery.NewBreaker(2, 30*time.Millisecond, func(s delivery.State) { states = append(states, s) })
	if !b.Allow() {
		t.Fatal("a new breaker refuses")
	}
	b.Failure()
	if b.State() != delivery.Closed {
		t.Fatal("opened after one failure with threshold 2")
	}
	b.Failure()
	if b.State() != delivery.Open || b.Allow() {
		t.Fatal("not open after two failures")
	}
	deadline := time.Now().Add(5 * time.Second)
	for !b.Allow() {
		if time.Now().After(deadline) {
			t.Fatal("no probe after the cooldown")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if b.State() != delivery.HalfOpen || b.Allow() {
		t.Fatal("a second probe while one is out")
	}
	b.Failure()
	if b.State() != delivery.Open {
		t.Fatal("a failed probe did not reopen")
	}
	b.Success()
	if b.State() != delivery.Closed || !b.Allow() {
		t.Fatal("success did not close")
	}
	want := []delivery.State{delivery.Closed, delivery.Open, delivery.HalfOpen, delivery.Open, delivery.Closed}
	if fmt.Sprint(states) != fmt.Sprint(want) {
		t.Errorf("transitions %v, want %v", states, want)
	}
}

type harness struct {
	api *eventAPI
	sp  *spool.Bolt
	brk *delivery.Breaker
	pub *delivery.Publisher
	dlv *delivery.Deliverer
	bat *delivery.Batcher
}

func newHarness(t *testing.T) *harness {
	h := &harness{api: newEventAPI(t)}
	var err error
	h.sp, err = spool.OpenBolt(t.TempDir(), 100, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.sp.Close() })
	c := client(t, h.api.srv.URL)
	h.brk = delivery.NewBreaker(1, 300*time.Millisecond, nil)
	s := delivery.NewSender(c, h.brk, nopMetrics{})
	h.bat = delivery.NewBatcher(delivery.BatcherConfig{Linger: time.Millisecond, MaxEvents: 10, MaxBytes: 1 << 20, MaxInFlight: 2, Timeout: 2 * time.Second}, s)
	t.Cleanup(h.bat.Close)
	log := slog.New(slog.DiscardHandler)
	h.dlv = delivery.NewDeliverer(delivery.DelivererConfig{Batch: 10, Poll: time.Hour, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond, Lease: time.Minute}, h.sp, s, nopMetrics{}, log)
	h.pub = &delivery.Publisher{Batcher: h.bat, Spool: h.sp, Metrics: nopMetrics{}, Log: log, Timeout: 2 * time.Second, Now: time.Now}
	return h
}

func event(id string) events.Event {
	return events.Event{ID: id, Name: "test/e", Timestamp: 1, Data: events.Data{Data: json.RawMessage(`1`), Settings: map[string]any{}}}
}

// encoded is e with its encoding, as the handler hands an event to Publish.
func encoded(e events.Event) events.Encoded {
	enc, err := events.EncodeEvent(e)
	if err != nil {
		panic(err)
	}
	return enc
}

// Inngest down: the event is spooled (202), the breaker opens, the next
// publish skips Inngest; once it is back the deliverer sends both with their ids.
func TestPublishSpoolsAndDelivers(t *testing.T) {
	h := newHarness(t)
	h.api.status.Store(503)
	r, err := h.pub.Publish(context.Background(), encoded(event("a")))
	if err != nil || !r.Queued {
		t.Fatalf("Publish = %+v, %v; want queued", r, err)
	}
	if h.brk.State() != delivery.Open {
		t.Fatalf("breaker %v after a 503, want open", h.brk.State())
	}
	before := len(h.api.requests())
	if r, err := h.pub.Publish(context.Background(), encoded(event("b"))); err != nil || !r.Queued {
		t.Fatalf("Publish = %+v, %v", r, err)
	}
	if len(h.api.requests()) != before {
		t.Error("an open breaker still sent to Inngest")
	}
	if _, err := h.dlv.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	st, _ := h.sp.Stats(context.Background())
	if st.Depth != 2 {
		t.Fatalf("depth %d while the circuit is open, want 2", st.Depth)
	}

	h.api.status.Store(200)
	// The deliverer waits for the breaker's probe slot (the cooldown), then delivers.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := h.dlv.Once(context.Background()); err != nil {
			t.Fatal(err)
		}
		st, _ = h.sp.Stats(context.Background())
		if st.Depth == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if st.Depth != 0 || h.brk.State() != delivery.Closed {
		t.Fatalf("after Inngest came back: depth %d, breaker %v", st.Depth, h.brk.State())
	}
	last := h.api.requests()[len(h.api.requests())-1]
	if fmt.Sprint(last) != "[a b]" {
		t.Errorf("delivered %v, want [a b] with their ids", last)
	}
	r, err = h.pub.Publish(context.Background(), encoded(event("c")))
	if err != nil || r.Queued || len(r.IDs) != 1 || r.IDs[0] != "inngest-c" {
		t.Fatalf("Publish with Inngest up = %+v, %v", r, err)
	}
}

// 4xx: not retried; the event is a dead letter; Replay makes it deliverable.
func TestPublishRejectedIsDeadLettered(t *testing.T) {
	h := newHarness(t)
	h.api.status.Store(400)
	r, err := h.pub.Publish(context.Background(), encoded(event("bad")))
	if err != nil || !r.Queued {
		t.Fatalf("Publish = %+v, %v", r, err)
	}
	st, _ := h.sp.Stats(context.Background())
	if st.Dead != 1 || st.Depth != 0 || h.brk.State() != delivery.Closed {
		t.Fatalf("stats %+v, breaker %v; want one dead letter and a closed breaker", st, h.brk.State())
	}
	h.api.status.Store(200)
	if n, err := h.sp.Replay(context.Background(), time.Now()); err != nil || n != 1 {
		t.Fatalf("Replay = %d, %v", n, err)
	}
	if _, err := h.dlv.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	st, _ = h.sp.Stats(context.Background())
	if st.Dead != 0 || st.Depth != 0 {
		t.Fatalf("after replay: %+v", st)
	}
}

// buryFails is a spool whose dead letters cannot be written.
type buryFails struct{ spool.Spool }

func (buryFails) Bury(context.Context, []spool.Record, string) error {
	return errors.New("write spool.db: input/output error")
}

// An event Inngest refuses that cannot be dead-lettered either is not kept:
// the error says so (ErrNotQueued, a 503 for the caller), never an unknown one.
func TestPublishRejectedNotBuried(t *testing.T) {
	h := newHarness(t)
	h.api.status.Store(400)
	h.pub.Spool = buryFails{h.sp}
	r, err := h.pub.Publish(context.Background(), encoded(event("bad")))
	if !errors.Is(err, delivery.ErrNotQueued) || r.Queued {
		t.Fatalf("Publish = %+v, %v; want ErrNotQueued and nothing queued", r, err)
	}
}

// A spooled event Inngest refuses goes to the dead letters, not back in line.
func TestDelivererDeadLetters(t *testing.T) {
	h := newHarness(t)
	if err := h.sp.Put(context.Background(), []spool.Record{{EventID: "x", Event: enc("x"), NextAt: time.Now(), EnqueuedAt: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	h.api.status.Store(422)
	if _, err := h.dlv.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	st, _ := h.sp.Stats(context.Background())
	if st.Dead != 1 || st.Depth != 0 {
		t.Fatalf("stats %+v, want one dead letter", st)
	}
	if n := len(h.api.requests()); n != 1 {
		t.Errorf("%d requests, want 1 (no retry of a 4xx)", n)
	}
}

func TestPublishSpoolFull(t *testing.T) {
	h := newHarness(t)
	h.api.status.Store(503)
	var err error
	for i := 0; i <= 100 && err == nil; i++ {
		_, err = h.pub.Publish(context.Background(), encoded(event(fmt.Sprint(i))))
	}
	if !errors.Is(err, spool.ErrFull) {
		t.Fatalf("err = %v, want ErrFull once 100 events wait", err)
	}
}

// The deliverer keeps each request under MaxBytes too.
func TestDelivererSplitsByBytes(t *testing.T) {
	h := newHarness(t)
	spoolEvents(t, h.sp, 5)
	one := len(enc("ev0")) + 1
	d := delivery.NewDeliverer(delivery.DelivererConfig{Batch: 10, MaxBytes: 2 * one, Poll: time.Hour, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond, Lease: time.Minute},
		h.sp, delivery.NewSender(client(t, h.api.srv.URL), h.brk, nopMetrics{}), nopMetrics{}, slog.New(slog.DiscardHandler))
	if _, err := d.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	reqs := h.api.requests()
	if fmt.Sprint(reqs) != "[[ev0 ev1] [ev2 ev3] [ev4]]" {
		t.Errorf("requests %v, want pairs of events", reqs)
	}
	if st, _ := h.sp.Stats(context.Background()); st.Depth != 0 {
		t.Errorf("depth %d, want 0", st.Depth)
	}
}

// spoolEvents puts n due events ev0, ev1, ... into sp.
func spoolEvents(t *testing.T, sp spool.Spool, n int) {
	t.Helper()
	var recs []spool.Record
	for i := range n {
		id := fmt.Sprintf("ev%d", i)
		recs = append(recs, spool.Record{EventID: id, Event: enc(id), NextAt: time.Now(), EnqueuedAt: time.Now()})
	}
	if err := sp.Put(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
}

// smallClaims is a spool whose Claim fails for more than limit records, as
// a bbolt claim does when the rewrite of that many records does not fit on
// the disk.
type smallClaims struct {
	spool.Spool
	limit int
	asked []int
}

func (s *smallClaims) Claim(ctx context.Context, now time.Time, n int, lease time.Duration) ([]spool.Record, error) {
	s.asked = append(s.asked, n)
	if n > s.limit {
		return nil, errors.New("write spool.db: no space left on device")
	}
	return s.Spool.Claim(ctx, now, n, lease)
}

// A claim that fails is retried smaller, down to one record, so a spool on
// a nearly full disk still drains; successes grow the claim back.
func TestDelivererShrinksFailingClaims(t *testing.T) {
	h := newHarness(t)
	spoolEvents(t, h.sp, 5)
	sp := &smallClaims{Spool: h.sp, limit: 2}
	d := delivery.NewDeliverer(delivery.DelivererConfig{Batch: 10, Poll: time.Hour, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond, Lease: time.Minute},
		sp, delivery.NewSender(client(t, h.api.srv.URL), h.brk, nopMetrics{}), nopMetrics{}, slog.New(slog.DiscardHandler))
	for range 10 {
		more, err := d.Once(context.Background())
		if err == nil && !more {
			if st, _ := h.sp.Stats(context.Background()); st.Depth == 0 {
				break
			}
		}
	}
	if st, _ := h.sp.Stats(context.Background()); st.Depth != 0 {
		t.Fatalf("depth %d after shrinking claims (asked %v), want 0", st.Depth, sp.asked)
	}
	// 10 and 5 fail, 2 succeeds twice (growing to 4, which fails), then 2 again.
	if fmt.Sprint(sp.asked[:3]) != "[10 5 2]" {
		t.Errorf("claims asked for %v, want 10, 5, 2 first", sp.asked)
	}
}

// TestBatcherHoldsTheAdmissionLease: an event whose publish gave up waiting
// (the request was answered from the spool) is still in a batch being sent;
// its request's admission lease stays taken until that send ends, and goes
// back to the budget then. A rejected batch, resent event by event, lets go
// of every lease too.
func TestBatcherHoldsTheAdmissionLease(t *testing.T) {
	api := newEventAPI(t)
	gate := make(chan struct{})
	api.gate = gate
	b := delivery.NewBatcher(delivery.BatcherConfig{Linger: time.Millisecond, MaxEvents: 10, MaxBytes: 1 << 20, MaxInFlight: 2, Timeout: 10 * time.Second}, sender(t, api.srv.URL))
	defer b.Close()
	budget, err := admission.New(1000, 0)
	if err != nil {
		t.Fatal(err)
	}
	lease, err := budget.Acquire(context.Background(), 600)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(admission.NewContext(context.Background(), lease), 50*time.Millisecond)
	defer cancel()
	if _, err := b.Submit(ctx, enc("held")); !errors.Is(err, inngest.ErrTimeout) {
		t.Fatalf("Submit: %v, want a timeout while the Event API is held", err)
	}
	lease.Release() // the handler is done with the request
	if got := budget.InUse(); got != 600 {
		t.Fatalf("in use %d while the batch still has the event, want 600", got)
	}
	close(gate)
	deadline := time.Now().Add(5 * time.Second)
	for budget.InUse() != 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := budget.InUse(); got != 0 {
		t.Fatalf("in use %d after the send ended, want 0", got)
	}

	api.status.Store(400)
	var wg sync.WaitGroup
	for i := range 5 {
		l, err := budget.Acquire(context.Background(), 100)
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			defer l.Release()
			_, _ = b.Submit(admission.NewContext(context.Background(), l), enc(fmt.Sprint("r", i)))
		})
	}
	wg.Wait()
	if got := budget.InUse(); got != 0 {
		t.Fatalf("in use %d after rejected sends, want 0", got)
	}
}
