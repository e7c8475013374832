package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/testkit/nextauthmint"
	"github.com/routeapi/routeapi/internal/testkit/spectest"
)

// peakRSS is a process's peak resident set in bytes (VmHWM in /proc/<pid>/status).
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("read the peak RSS: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %v", rest, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc/<pid>/status")
	return 0
}

// Memory under overload. The budget is the smallest allowed (3 MiB: twelve
// 250 KB bodies); 96 clients send 250 KB bodies at once, three each.
const (
	overloadBudget  = 3 << 20
	overloadClients = 96
	overloadEach    = 3
	overloadBody    = 250_000
	// overloadOverhead is the process's own memory apart from the bodies:
	// the idle process (about 25 MiB), one goroutine and buffers per
	// connection, the HTTP client, the bolt spool's map, the GC's slack.
	overloadOverhead = 48 << 20
	// overloadPerByte is what one admitted body byte costs at most: the
	// body buffer, the encoded event built from it (the batcher keeps it
	// until Inngest answered), and the garbage collector's headroom (with
	// GOGC=100 the heap may grow to twice what is live before a collection).
	overloadPerByte = 4
)

// TestMemoryBoundedUnderOverload: a bounded burst of concurrent large
// bodies against a small in-flight budget. Every answer is a 2xx or a 503
// overloaded with Retry-After (checked against openapi.yaml), no connection
// fails, the process's peak RSS stays under the overhead plus a fixed
// multiple of the budget, and every 2xx produced its event in the real
// Inngest dev server, exactly once. Without the budget the same burst
// takes the peak RSS well over that bound (docs/benchmarks.md).
func TestMemoryBoundedUnderOverload(t *testing.T) {
	inngest := startInngest(t)
	event := "e2e/overload." + randomSuffix()
	srv := startRouteAPI(t, settingsYAML(event, true, 262144), map[string]string{
		"INNGEST_BASE_URL":            inngest.URL,
		"ROUTEAPI_MAX_INFLIGHT_BYTES": strconv.Itoa(overloadBudget),
		"ROUTEAPI_ADMISSION_WAIT":     "50ms",
		"ROUTEAPI_LOG_LEVEL":          "warn",
	})
	v := nextauthmint.Mint(t, nextauthmint.Case{Name: "ada", Secret: srv.Secret, Claims: ada, MaxAge: 3600})[0]
	body := `{"data":"` + strings.Repeat("x", overloadBody-len(`{"data":""}`)) + `"}`

	var (
		mu       sync.Mutex
		acked    = map[string]bool{}
		statuses = map[int]int{}
		failures []string
		wg       sync.WaitGroup
	)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := make(chan struct{})
	for w := range overloadClients {
		wg.Go(func() {
			client := &http.Client{Transport: &http.Transport{}, Timeout: 30 * time.Second}
			defer client.CloseIdleConnections()
			<-start
			for i := range overloadEach {
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/api/route", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Cookie", v.CookieHeader)
				req.Header.Set("Idempotency-Key", fmt.Sprintf("overload-%d-%d", w, i))
				resp, err := client.Do(req)
				if err != nil {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("client %d request %d: %v", w, i, err))
					mu.Unlock()
					continue
				}
				data, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				mu.Lock()
				statuses[resp.StatusCode]++
				switch {
				case err != nil:
					failures = append(failures, fmt.Sprintf("client %d request %d: read the answer: %v", w, i, err))
				case resp.StatusCode == 200 || resp.StatusCode == 202:
					var out struct {
						EventID string `json:"eventId"`
					}
					if err := json.Unmarshal(data, &out); err != nil || out.EventID == "" {
						failures = append(failures, fmt.Sprintf("%d without an eventId: %s", resp.StatusCode, data))
					}
					acked[out.EventID] = true
				case resp.StatusCode == 503 && strings.Contains(string(data), "urn:routeapi:problem:overloaded") && resp.Header.Get("Retry-After") != "":
				default:
					failures = append(failures, fmt.Sprintf("%d (Retry-After %q): %s", resp.StatusCode, resp.Header.Get("Retry-After"), data))
				}
				mu.Unlock()
				if err := spectest.CheckResponse(req, resp.StatusCode, resp.Header, data); err != nil {
					t.Errorf("answer does not match openapi.yaml: %v", err)
				}
			}
		})
	}
	close(start)
	wg.Wait()
	rss := peakRSS(t, srv.proc.cmd.Process.Pid)
	bound := int64(overloadOverhead + overloadPerByte*overloadBudget)
	t.Logf("%d clients × %d bodies of %d bytes, budget %d: answers %v, peak RSS %.1f MiB (bound %.1f MiB)",
		overloadClients, overloadEach, overloadBody, overloadBudget, statuses, float64(rss)/(1<<20), float64(bound)/(1<<20))
	for i, f := range failures {
		if i == 10 {
			t.Errorf("… and %d more", len(failures)-10)
			break
		}
		t.Error(f)
	}
	if len(acked) == 0 {
		t.Fatal("no request was admitted")
	}
	if rss > bound {
		t.Errorf("peak RSS %d bytes, over %d (overhead %d + %d × budget %d)", rss, bound, overloadOverhead, overloadPerByte, overloadBudget)
	}
	// Every 503 was counted as a refusal, and once the batcher has let go of
	// the last event (a 202's may still be on its way), nothing is leased.
	num := func(v int) string { return strconv.FormatFloat(float64(v), 'g', -1, 64) } // Prometheus's text format
	want := []string{
		"routeapi_admission_refused_total " + num(statuses[503]) + "\n",
		"routeapi_inflight_bytes 0\n",
		"routeapi_inflight_bytes_limit " + num(overloadBudget) + "\n",
	}
	var metricsText string
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(srv.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		metricsText = string(b)
		if strings.Contains(metricsText, want[1]) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, w := range want {
		if !strings.Contains(metricsText, w) {
			t.Errorf("/metrics has no %q", strings.TrimSpace(w))
		}
	}
	checkExactlyOnce(t, inngest, event, acked, 30*time.Second)
}

// TestSlowBodyGets408: headers, then a body that trickles in past
// ROUTEAPI_READ_TIMEOUT (here 1 s; a byte every 250 ms against it, as a byte
// every 2.5 s meets the 30 s default), is answered 408 request-timeout with
// Connection: close, and nothing reaches Inngest.
func TestSlowBodyGets408(t *testing.T) {
	inngest := startInngest(t)
	event := "e2e/slow." + randomSuffix()
	srv := startRouteAPI(t, settingsYAML(event, true, 262144), map[string]string{
		"INNGEST_BASE_URL": inngest.URL, "ROUTEAPI_READ_TIMEOUT": "1s",
	})
	v := nextauthmint.Mint(t, nextauthmint.Case{Name: "ada", Secret: srv.Secret, Claims: ada, MaxAge: 3600})[0]
	body := `{"data":"slow"}`
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL+"/api/route", strings.NewReader(body))
	conn, err := net.Dial("tcp", req.URL.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := fmt.Fprintf(conn, "POST /api/route HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nCookie: %s\r\nContent-Length: %d\r\n\r\n",
		req.URL.Host, v.CookieHeader, len(body)); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		for i := range len(body) - 1 { // never the last byte
			select {
			case <-done:
				return
			case <-time.After(250 * time.Millisecond):
			}
			if _, err := conn.Write([]byte{body[i]}); err != nil {
				return
			}
		}
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		t.Fatalf("read the answer: %v", err)
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(data), "urn:routeapi:problem:request-timeout") || !resp.Close {
		t.Fatalf("%d (close %v): %s; want 408 request-timeout with Connection: close", resp.StatusCode, resp.Close, data)
	}
	if err := spectest.CheckResponse(req, resp.StatusCode, resp.Header, data); err != nil {
		t.Error(err)
	}
	if got := inngest.events(t, event); len(got) != 0 {
		t.Errorf("%d events for a body that never arrived", len(got))
	}
}
