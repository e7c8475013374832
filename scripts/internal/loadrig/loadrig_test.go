package loadrig

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestEventAPI: the stand-in answers a batch with one id per event and counts
// distinct ids and repeats until Take starts afresh.
func TestEventAPI(t *testing.T) {
	a, err := startEventAPI("01T")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	send := func(body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, a.URL()+"/e/key", strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, body := send(`[{"id":"a"},{"id":"b"}]`)
	var answer struct {
		IDs    []string `json:"ids"`
		Status int      `json:"status"`
	}
	if err := json.Unmarshal([]byte(body), &answer); status != 200 || err != nil || len(answer.IDs) != 2 || answer.IDs[1] != "01T1" || answer.Status != 200 {
		t.Fatalf("answer %d %s", status, body)
	}
	if status, _ := send(`{"id":"not an array"}`); status != http.StatusBadRequest {
		t.Errorf("a body that is not an array: %d, want 400", status)
	}
	send(`[{"id":"b"},{"id":"c"}]`)
	a.WaitFor(3, time.Second)
	if events, dups := a.Take(); events != 3 || dups != 1 {
		t.Errorf("Take = %d events, %d duplicated; want 3, 1", events, dups)
	}
	if events, dups := a.Take(); events != 0 || dups != 0 {
		t.Errorf("Take after Take = %d, %d; want 0, 0", events, dups)
	}
}

// TestEventAPIWithoutID: events without an id (inngest.send gives none) are
// counted apart, beside the ids; Take starts both afresh.
func TestEventAPIWithoutID(t *testing.T) {
	a, err := startEventAPI("01T")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	for _, body := range []string{`[{"name":"x","data":{}},{"name":"x","data":{}}]`, `[{"id":"a"},{"name":"x"}]`} {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, a.URL()+"/e/key", strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", body, resp.StatusCode)
		}
	}
	a.WaitFor(4, time.Second)
	if got := a.TakeTally(); got != (Tally{Events: 4, WithoutID: 3}) {
		t.Errorf("TakeTally = %+v, want 4 events, 3 without an id", got)
	}
	if got := a.TakeTally(); got != (Tally{}) {
		t.Errorf("TakeTally after TakeTally = %+v", got)
	}
}

func TestBody(t *testing.T) {
	for _, size := range []int{1, 12, 1 << 10, 250_000} {
		b := Body(size)
		if size >= len(`{"data":"x"}`) && len(b) != size {
			t.Errorf("Body(%d) is %d bytes", size, len(b))
		}
		if !json.Valid([]byte(b)) || !strings.HasPrefix(b, `{"data":"x`) {
			t.Errorf("Body(%d) = %.40s", size, b)
		}
	}
}
