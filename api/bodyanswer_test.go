package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/routeapi/routeapi/api"
	"github.com/routeapi/routeapi/gen"
	"github.com/routeapi/routeapi/internal/admission"
	"github.com/routeapi/routeapi/internal/delivery"
	"github.com/routeapi/routeapi/internal/events"
	"github.com/routeapi/routeapi/internal/session"
	"github.com/routeapi/routeapi/internal/testkit/spectest"
	"github.com/routeapi/routeapi/internal/user"
)

// bodyMode is how a test client sends a request body.
type bodyMode string

const (
	// modeLength declares the length (Content-Length) and sends the body at once.
	modeLength bodyMode = "content-length"
	// modeExpect declares the length with Expect: 100-continue and waits for 100 before sending.
	modeExpect bodyMode = "expect-100-continue"
	// modeChunked sends the body chunked, its length unknown to the server.
	modeChunked bodyMode = "chunked"
	// modeWriteFirst writes the whole request (declared length) before it
	// reads anything, as simple clients and load generators (wrk) do.
	modeWriteFirst bodyMode = "write-then-read"
)

// onlyReader hides a reader's length, so net/http sends it chunked.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// sendBody posts a {"data":"xxx…"} body of size bytes in mode and returns
// the answer; err is a transport error (a reset, a timeout).
func sendBody(ctx context.Context, client *http.Client, url, cookie string, size int, mode bodyMode) (int, http.Header, []byte, *http.Request, error) {
	body := `{"data":"` + strings.Repeat("x", size-len(`{"data":""}`)) + `"}`
	if mode == modeWriteFirst {
		return sendWriteFirst(ctx, url, cookie, body)
	}
	var r io.Reader = strings.NewReader(body)
	if mode == modeChunked {
		r = onlyReader{r}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/api/route", r)
	if err != nil {
		return 0, nil, nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Cookie", cookie)
	if mode == modeExpect {
		req.Header.Set("Expect", "100-continue")
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, nil, req, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, data, req, err
}

// dialSmallBuffer dials with a small socket send buffer: on loopback the
// kernel would otherwise take megabytes of a body the server never reads,
// where a real network path holds far less in flight. written counts the
// bytes the client sends (nil: not counted).
func dialSmallBuffer(written *atomic.Int64) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetWriteBuffer(16 << 10)
		}
		if written == nil {
			return conn, nil
		}
		return &countingConn{Conn: conn, written: written}, nil
	}
}

// countingConn counts the bytes written to it.
type countingConn struct {
	net.Conn
	written *atomic.Int64
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.written.Add(int64(n))
	return n, err
}

// sendWriteFirst writes the request on a raw connection, all of it, and only
// then reads the answer.
func sendWriteFirst(ctx context.Context, url, cookie, body string) (int, http.Header, []byte, *http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/api/route", strings.NewReader(body))
	if err != nil {
		return 0, nil, nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Cookie", cookie)
	conn, err := dialSmallBuffer(nil)(ctx, "tcp", req.URL.Host)
	if err != nil {
		return 0, nil, nil, req, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	if err := req.Write(conn); err != nil {
		return 0, nil, nil, req, fmt.Errorf("write request: %w", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		return 0, nil, nil, req, fmt.Errorf("read response: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, data, req, err
}

// TestOversizeAnswerArrives: clients sending bodies several times
// route.maxBodyBytes, many at once, declared, with Expect: 100-continue and
// chunked, each get the 413 problem, never a reset connection: the server
// answers with Connection: close and then reads and discards what the client
// still sends (a bounded lingering close) before it closes.
func TestOversizeAnswerArrives(t *testing.T) {
	const limit = 64 << 10
	set := goodSettings()
	set.Route.MaxBodyBytes = limit
	h := newHarness(t, options{settings: fakeSettings{s: set}, discardLogs: true})
	srv := httptest.NewServer(h.handler)
	t.Cleanup(srv.Close)
	cookie := cookieFor(t, adaClaims).String()

	const (
		workers    = 16
		perWorker  = 8
		testBudget = 60 * time.Second
	)
	ctx, cancel := context.WithTimeout(context.Background(), testBudget)
	defer cancel()
	for _, mode := range []bodyMode{modeLength, modeExpect, modeChunked, modeWriteFirst} {
		t.Run(string(mode), func(t *testing.T) {
			var written atomic.Int64
			tr := &http.Transport{
				DialContext:           dialSmallBuffer(&written),
				ExpectContinueTimeout: 5 * time.Second,
				MaxIdleConnsPerHost:   workers,
			}
			t.Cleanup(tr.CloseIdleConnections)
			client := &http.Client{Transport: tr, Timeout: 20 * time.Second}
			var (
				mu       sync.Mutex
				failures []string
				wg       sync.WaitGroup
			)
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range perWorker {
						// Two, three and eight times the limit, and just over it.
						size := []int{2 * limit, 3 * limit, 8 * limit, limit + 1}[(w+i)%4]
						status, header, body, req, err := sendBody(ctx, client, srv.URL, cookie, size, mode)
						fail := ""
						switch {
						case err != nil:
							fail = fmt.Sprintf("%d bytes: %v", size, err)
						case status != http.StatusRequestEntityTooLarge:
							fail = fmt.Sprintf("%d bytes: status %d, want 413: %s", size, status, body)
						case !strings.Contains(string(body), "urn:routeapi:problem:payload-too-large"):
							fail = fmt.Sprintf("%d bytes: not the payload-too-large problem: %s", size, body)
						default:
							if err := spectest.CheckResponse(req, status, header, body); err != nil {
								fail = fmt.Sprintf("%d bytes: %v", size, err)
							}
						}
						if fail != "" {
							mu.Lock()
							failures = append(failures, fail)
							mu.Unlock()
						}
					}
				}()
			}
			wg.Wait()
			for i, f := range failures {
				if i == 10 {
					t.Errorf("… and %d more", len(failures)-10)
					break
				}
				t.Error(f)
			}
			if len(failures) > 0 {
				t.Errorf("%d of %d clients did not get the 413 problem", len(failures), workers*perWorker)
			}
			// With Expect: 100-continue the server answers without asking
			// for the body: the clients sent their headers only.
			if n := written.Load(); mode == modeExpect && n > workers*perWorker*4096 {
				t.Errorf("Expect: 100-continue clients sent %d bytes for %d requests: the server asked for the bodies", n, workers*perWorker)
			}
		})
	}
}

// TestSlowBodyGets408: complete headers, then a body that trickles in (one
// byte every 100 ms against a read timeout of 500 ms, as a client sending
// one byte every 2.5 s meets the 30 s default) is answered 408
// request-timeout, which a client may retry, with Connection: close; nothing
// is published.
func TestSlowBodyGets408(t *testing.T) {
	t.Parallel() // it waits out the read timeout
	pub := &fakePublisher{}
	h := newHarness(t, options{pub: pub, discardLogs: true})
	srv := httptest.NewUnstartedServer(h.handler)
	srv.Config.ReadTimeout = 500 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)

	body := `{"data":"` + strings.Repeat("x", 89) + `"}`
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL+"/api/route", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.AddCookie(cookieFor(t, adaClaims))
	conn, err := net.Dial("tcp", req.URL.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	head := fmt.Sprintf("POST /api/route HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nCookie: %s\r\nContent-Length: %d\r\n\r\n",
		req.URL.Host, req.Header.Get("Cookie"), len(body))
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for i := range len(body) - 1 { // never the whole body
			select {
			case <-stop:
				return
			case <-tick.C:
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
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(data), "urn:routeapi:problem:request-timeout") {
		t.Fatalf("status %d, want the 408 request-timeout problem: %s", resp.StatusCode, data)
	}
	if !resp.Close {
		t.Error("a 408 without Connection: close")
	}
	if err := spectest.CheckResponse(req, resp.StatusCode, resp.Header, data); err != nil {
		t.Error(err)
	}
	pub.mu.Lock()
	defer pub.mu.Unlock()
	if n := len(pub.events); n != 0 {
		t.Errorf("%d events published for a body that never arrived", n)
	}
}

// gatedPublisher holds every publish until its gate opens.
type gatedPublisher struct {
	started chan struct{}
	gate    chan struct{}
}

func (p *gatedPublisher) Publish(ctx context.Context, e events.Encoded) (delivery.Receipt, error) {
	p.started <- struct{}{}
	<-p.gate
	return delivery.Receipt{IDs: []string{"01TESTINNGESTID"}}, nil
}

func (p *gatedPublisher) PublishAll(ctx context.Context, evs []events.Encoded) (delivery.Receipt, error) {
	p.started <- struct{}{}
	<-p.gate
	return delivery.Receipt{IDs: make([]string, len(evs))}, nil
}

// TestOverloadedGets503: with the in-flight budget taken by a request in
// the handler, a request whose body would not fit is refused at once with
// 503 overloaded and Retry-After, its body unread; a chunked body, and one
// with a content coding, weighs the whole limit; a body that fits, and an
// empty-bodied probe, still get in; once the first request is answered its
// bytes are back.
func TestOverloadedGets503(t *testing.T) {
	const limit = 4000
	set := goodSettings()
	set.Route.MaxBodyBytes = limit
	budget, err := admission.New(6000, 0)
	if err != nil {
		t.Fatal(err)
	}
	resolver, err := session.NewJWT(session.JWTConfig{Format: session.FormatV4, V4Secret: testSecret, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	pub := &gatedPublisher{started: make(chan struct{}, 4), gate: make(chan struct{})}
	handler, err := api.NewServer(api.Deps{
		Logger: slog.New(slog.DiscardHandler), Settings: fakeSettings{s: set}, Sessions: resolver, Users: user.FromClaims{},
		Publisher: pub, CookieNames: session.CookieNames(false), Now: func() time.Time { return testNow }, Admission: budget,
	})
	if err != nil {
		t.Fatal(err)
	}
	ada := cookieFor(t, adaClaims)
	post := func(size int, chunked bool, coding string) (*http.Request, *httptest.ResponseRecorder) {
		req := request{body: `{"data":"` + strings.Repeat("x", size-len(`{"data":""}`)) + `"}`, cookies: []*http.Cookie{ada}}.build()
		if chunked {
			req.ContentLength = -1
		}
		if coding != "" {
			req.Header.Set("Content-Encoding", coding)
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		return req, rec
	}

	first := make(chan *httptest.ResponseRecorder, 1)
	go func() { _, rec := post(3000, false, ""); first <- rec }()
	<-pub.started // 3000 of 6000 bytes leased, held in the handler
	if got := budget.InUse(); got != 3000 {
		t.Fatalf("in use %d, want the first body's 3000", got)
	}
	for _, c := range []struct {
		size    int
		chunked bool
		coding  string
	}{{3001, false, ""}, {100, true, ""}, {100, false, "gzip"}} {
		req, rec := post(c.size, c.chunked, c.coding)
		p := problemOf(t, rec)
		if rec.Code != http.StatusServiceUnavailable || p.Type != "urn:routeapi:problem:overloaded" || rec.Header().Get("Retry-After") != "1" ||
			rec.Header().Get("Connection") != "close" {
			t.Errorf("%d bytes (chunked %v): %d %s, Retry-After %q, Connection %q; want 503 overloaded, Retry-After 1, close",
				c.size, c.chunked, rec.Code, p.Type, rec.Header().Get("Retry-After"), rec.Header().Get("Connection"))
		}
		checkAgainstSpec(t, req, rec)
	}
	ready := httptest.NewRecorder()
	handler.ServeHTTP(ready, request{method: http.MethodGet, path: "/readyz"}.build())
	if ready.Code != http.StatusOK {
		t.Errorf("/readyz while the budget is full: %d, want 200", ready.Code)
	}
	second := make(chan *httptest.ResponseRecorder, 1)
	go func() { _, rec := post(3000, false, ""); second <- rec }() // fits exactly
	<-pub.started
	close(pub.gate)
	for _, ch := range []chan *httptest.ResponseRecorder{first, second} {
		if rec := <-ch; rec.Code != http.StatusOK {
			t.Errorf("admitted request: %d %s", rec.Code, rec.Body.Bytes())
		}
	}
	if got := budget.InUse(); got != 0 {
		t.Errorf("in use %d after every request was answered, want 0", got)
	}
	if _, rec := post(3001, false, ""); rec.Code != http.StatusOK {
		t.Errorf("after the release: %d %s", rec.Code, rec.Body.Bytes())
	}
}

func problemOf(t *testing.T, rec *httptest.ResponseRecorder) gen.Problem {
	t.Helper()
	var p gen.Problem
	_ = json.Unmarshal(rec.Body.Bytes(), &p)
	return p
}

// TestLingerIsBounded: a client that declares a large body, sends a little
// of it and then stalls with the connection open gets its 413 at once, and
// the server still closes the connection (after lingerTime, 5 s), instead of
// waiting for the rest for ever.
func TestLingerIsBounded(t *testing.T) {
	t.Parallel() // it waits out the linger
	h := newHarness(t, options{discardLogs: true})
	srv := httptest.NewServer(h.handler)
	t.Cleanup(srv.Close)
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := fmt.Fprintf(conn, "POST /api/route HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		10<<20, strings.Repeat("x", 64<<10)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("read the answer: %v", err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !resp.Close {
		t.Fatalf("%d (close %v): %s; want 413 with Connection: close", resp.StatusCode, resp.Close, data)
	}
	// Nothing more is sent; the server must close within its linger bound
	// (the 30 s deadline above only keeps a broken server from hanging the test).
	if n, err := br.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read after the answer: %d bytes, %v; want the server to close the connection", n, err)
	}
}
