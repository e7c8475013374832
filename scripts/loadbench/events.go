package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/routeapi/routeapi/scripts/internal/loadrig"
)

// eventsCheck is a scenario's verdict on the events the stand-in received.
type eventsCheck struct {
	ok   bool
	text string // the table's cell
}

// prepare sends one request as the load will and checks it: a 2xx and its
// events at the stand-in (a 401 from the original route means it did not
// read the rig's session). It then starts the stand-in's count afresh and,
// for routeapi, returns its answer counts so far (nil for the others).
func (b *bench) prepare(t *running, sc scenario) (loadrig.Answered, error) {
	if err := probe(t.base+sc.path(), sc.body(), b.rig.Cookie); err != nil {
		if sc.target == targetOriginal && strings.Contains(err.Error(), "status 401") {
			err = fmt.Errorf("%w (the app did not read the session: is NEXTAUTH_SECRET the rig's?)", err)
		}
		return nil, fmt.Errorf("the first request: %w", err)
	}
	if sc.target != targetNoop {
		b.rig.EventAPI.WaitFor(sc.perRequest(), 10*time.Second)
	}
	if got := b.rig.EventAPI.TakeTally(); sc.target != targetNoop && got.Events != sc.perRequest() {
		return nil, fmt.Errorf("the first request: %d events at the stand-in, want %d", got.Events, sc.perRequest())
	}
	if sc.target != targetRouteAPI {
		return nil, nil
	}
	before, err := loadrig.ScrapeAnswered(t.base, sc.path(), "POST")
	if err != nil {
		return nil, err
	}
	return before, nil
}

// probe posts body to url with the cookie (10 s at most) and fails unless
// the answer is a 2xx.
func probe(url, body, cookie string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return fmt.Errorf("POST %s: %w", url, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Cookie", cookie)
	resp, err := loadrig.OneShot.Do(req)
	if err != nil {
		return fmt.Errorf("POST %s: %w", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("POST %s: status %d: %s", url, resp.StatusCode, answer)
	}
	return nil
}

// checkEvents waits (10 s at most) for the events of the scenario's 2xx
// answers and checks them against what the server answered:
//
//   - routeapi: its own count of 2xx answers (routeapi_http_requests_total
//     after minus before; exact, as measure waited until every request was
//     answered) times the events per request, every id once, no non-2xx on
//     the server's side, and at least the 2xx the client saw, at most
//     inFlight more;
//   - the original route, which counts nothing: at least the client's 2xx
//     and at most that plus inFlight (the requests the load generator gave
//     up on at its end), and no id twice (inngest.send sends no id: the
//     stand-in counts those events apart, and duplicates among them cannot
//     be told);
//   - the no-op sends no events.
func (b *bench) checkEvents(t *running, sc scenario, before loadrig.Answered, clientOK, inFlight int) (eventsCheck, error) {
	k := sc.perRequest()
	switch sc.target {
	case targetNoop:
		return eventsCheck{ok: true, text: "n/a"}, nil
	case targetOriginal:
		b.rig.EventAPI.WaitFor(clientOK*k, 10*time.Second)
		return originalVerdict(b.rig.EventAPI.TakeTally(), clientOK*k, inFlight*k), nil
	}
	after, err := loadrig.ScrapeAnswered(t.base, sc.path(), "POST")
	if err != nil {
		return eventsCheck{}, err
	}
	answered := after.Sub(before)
	b.rig.EventAPI.WaitFor(answered.OK()*k, 10*time.Second)
	return routeapiVerdict(b.rig.EventAPI.TakeTally(), answered, clientOK, inFlight, k), nil
}

// routeapiVerdict: exactly k events per 2xx routeapi answered, each id once,
// no event without an id, no non-2xx answer on the server's side, and the
// server's 2xx between the client's and that plus inFlight.
func routeapiVerdict(got loadrig.Tally, answered loadrig.Answered, clientOK, inFlight, k int) eventsCheck {
	serverOK := answered.OK()
	want := serverOK * k
	var bad []string
	if got.Events != want {
		bad = append(bad, fmt.Sprintf("%d events for %d 2xx of %d events", got.Events, serverOK, k))
	}
	if got.Duplicated > 0 || got.WithoutID > 0 {
		bad = append(bad, fmt.Sprintf("%d ids twice, %d without an id", got.Duplicated, got.WithoutID))
	}
	if serverOK < clientOK || serverOK > clientOK+inFlight {
		bad = append(bad, fmt.Sprintf("routeapi counted %d 2xx, the client saw %d (+%d in flight at most)", serverOK, clientOK, inFlight))
	}
	if n := answeredTotal(answered) - serverOK; n > 0 {
		bad = append(bad, fmt.Sprintf("routeapi answered %d non-2xx %v", n, answered))
	}
	if len(bad) > 0 {
		return eventsCheck{text: "MISMATCH: " + strings.Join(bad, "; ")}
	}
	return eventsCheck{ok: true, text: fmt.Sprintf("ok: %d = %d 2xx×%d (client saw %d)", got.Events, serverOK, k, clientOK)}
}

// originalVerdict: between want and want+slack events, no id twice.
func originalVerdict(got loadrig.Tally, want, slack int) eventsCheck {
	if got.Duplicated > 0 || got.Events < want || got.Events > want+slack {
		return eventsCheck{text: fmt.Sprintf("MISMATCH: %d events (%d ids twice) for %d 2xx (+%d in flight at most)", got.Events, got.Duplicated, want, slack)}
	}
	return eventsCheck{ok: true, text: fmt.Sprintf("ok: %d = 2xx + %d in flight", got.Events, got.Events-want)}
}

func answeredTotal(a loadrig.Answered) int {
	n := 0
	for _, c := range a {
		n += c
	}
	return n
}
