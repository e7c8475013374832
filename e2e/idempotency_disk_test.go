package e2e

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestFullDiskKeyedRequests: keyed requests on a bolt spool whose disk
// reaches its reserve with Inngest down. A repeat of an acknowledged key
// is still answered (202, its eventId: a lookup writes nothing) and one
// with other data refused (422); a new key gets 503 spool-full with
// Retry-After and holds nothing. When Inngest is back every acknowledged
// event is delivered exactly once; the refused request retried with its
// key and data is published once; a repeat of an acknowledged key answers
// as first (202, the same eventId) and publishes nothing.
func TestFullDiskKeyedRequests(t *testing.T) {
	fd := startFullDisk(t, "e2e/fulldiskkeys.")
	inngest, g, event, srv, v := fd.inngest, fd.gate, fd.event, fd.srv, fd.ada
	pad := strings.Repeat("y", 16<<10)
	keyed := func(key, data string) response {
		h := cookieHeader(v)
		h.Set("Idempotency-Key", key)
		return srv.post(t, `{"data":`+data+`}`, h)
	}
	spoolFull := func(what string, resp response) {
		t.Helper()
		if resp.Status != http.StatusServiceUnavailable || resp.problemType() != "spool-full" || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("%s: %d %s, Retry-After %q: want 503 spool-full with Retry-After", what, resp.Status, resp.Body, resp.Header.Get("Retry-After"))
		}
	}
	eventID := func(what string, resp response, status int) string {
		t.Helper()
		if resp.Status != status {
			t.Fatalf("%s: %d %s, want %d", what, resp.Status, resp.Body, status)
		}
		var r routeResponse
		resp.decode(t, &r)
		return r.EventID
	}

	acked := map[string]bool{}
	var firstKey, firstData, firstID, refusedKey, refusedData string
	for i := range 1000 { // 4 MiB holds a couple of hundred 16 KiB events at most
		key, data := fmt.Sprintf("disk-%d-%s", i, randomSuffix()), fmt.Sprintf(`{"n":%d,"pad":%q}`, i, pad)
		resp := keyed(key, data)
		if resp.Status == http.StatusServiceUnavailable {
			spoolFull(fmt.Sprintf("request %d", i), resp)
			refusedKey, refusedData = key, data
			break
		}
		id := eventID(fmt.Sprintf("request %d with Inngest down", i), resp, http.StatusAccepted)
		acked[id] = true
		if i == 0 {
			firstKey, firstData, firstID = key, data, id
		}
	}
	if refusedKey == "" || len(acked) < 10 {
		t.Fatalf("%d events acknowledged, then no 503: want some, then a 503", len(acked))
	}
	t.Logf("%d keyed events acknowledged before the reserve was reached", len(acked))

	// At the reserve: lookups still answer, new keys are refused.
	if id := eventID("a repeat at the reserve", keyed(firstKey, firstData), http.StatusAccepted); id != firstID {
		t.Errorf("a repeat at the reserve: eventId %s, want %s", id, firstID)
	}
	if resp := keyed(firstKey, `{"n":"other"}`); resp.Status != http.StatusUnprocessableEntity || resp.problemType() != "idempotency-key-reused" {
		t.Errorf("other data at the reserve: %d %s, want 422 idempotency-key-reused", resp.Status, resp.Body)
	}
	// A new key whose event is as large as the refused one (a much smaller
	// write may still fit above the reserve, and is rightly taken).
	spoolFull("a new key at the reserve", keyed("disk-new-"+randomSuffix(), fmt.Sprintf(`{"n":-1,"pad":%q}`, pad)))
	spoolFull("the refused request again", keyed(refusedKey, refusedData))

	g.up(t) // Inngest is back
	checkExactlyOnce(t, inngest, event, acked, 90*time.Second)
	waitFor(t, 30*time.Second, "/readyz to answer 200 again", func() bool {
		return srv.do(t, http.MethodGet, "/readyz", "", nil).Status == http.StatusOK
	})

	// The refused request, retried with its key and data: published, once.
	retried := eventID("the refused request retried", keyed(refusedKey, refusedData), http.StatusOK)
	acked[retried] = true
	if id := eventID("the retry repeated", keyed(refusedKey, refusedData), http.StatusOK); id != retried {
		t.Errorf("the retry repeated: eventId %s, want %s", id, retried)
	}
	// An acknowledged key repeated after delivery: the first answer, nothing new.
	if id := eventID("a repeat after delivery", keyed(firstKey, firstData), http.StatusAccepted); id != firstID {
		t.Errorf("a repeat after delivery: eventId %s, want %s", id, firstID)
	}
	// Once a sentinel sent after everything has arrived: each acknowledged
	// event exactly once, and nothing else.
	counts := countIDs(t, srv, inngest, event, v, slices.Collect(maps.Keys(acked))...)
	for id, n := range counts {
		if n != 1 || !acked[id] {
			t.Errorf("event %s in Inngest %d times (acknowledged: %v)", id, n, acked[id])
		}
	}
	for id := range acked {
		if counts[id] != 1 {
			t.Errorf("acknowledged event %s in Inngest %d times", id, counts[id])
		}
	}
}
