package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// recorder is a server that answers 200 and keeps the requests' shapes.
type recorder struct {
	mu   sync.Mutex
	n    int
	bad  []string
	want struct{ body, cookie string }
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.n++
	switch {
	case r.Method != http.MethodPost:
		rec.bad = append(rec.bad, "method "+r.Method)
	case r.URL.Path != "/api/route":
		rec.bad = append(rec.bad, "path "+r.URL.Path)
	case r.Header.Get("Content-Type") != "application/json":
		rec.bad = append(rec.bad, "content type "+r.Header.Get("Content-Type"))
	case r.Header.Get("Cookie") != rec.want.cookie:
		rec.bad = append(rec.bad, "cookie "+r.Header.Get("Cookie"))
	case string(b) != rec.want.body:
		rec.bad = append(rec.bad, "body "+string(b))
	}
	_, _ = io.WriteString(w, `{"success":"true"}`)
}

func (rec *recorder) check(t *testing.T, answered int) {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.bad) > 0 {
		t.Errorf("%d of %d requests were not as sent: first %s", len(rec.bad), rec.n, rec.bad[0])
	}
	if answered == 0 || answered > rec.n {
		t.Errorf("the tool reports %d 2xx, the server saw %d requests", answered, rec.n)
	}
}

// newRecorder serves a recorder on 127.0.0.1 and writes its body file.
func newRecorder(t *testing.T) (*recorder, *httptest.Server, string) {
	t.Helper()
	rec := &recorder{}
	rec.want.body, rec.want.cookie = eventsBody(2, 1<<10), `next-auth.session-token=eyJhbGciOiJkaXIi"x\y`
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	bodyPath := filepath.Join(t.TempDir(), "body.json")
	if err := os.WriteFile(bodyPath, []byte(rec.want.body), 0o600); err != nil {
		t.Fatal(err)
	}
	return rec, srv, bodyPath
}

// TestWrkRun: wrk with the generated script sends the body, Content-Type
// and Cookie as given (a quote and a backslash in the cookie survive the
// Lua quoting), and its summary line parses. Needs wrk.
func TestWrkRun(t *testing.T) {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		t.Skip("wrk is not installed (apt-get install wrk)")
	}
	rec, srv, bodyPath := newRecorder(t)
	script, err := writeWrkScript(t.TempDir(), bodyPath, rec.want.cookie)
	if err != nil {
		t.Fatal(err)
	}
	s, err := wrkRun{wrk: wrk, url: srv.URL + "/api/route", script: script, conns: 2, duration: time.Second}.run()
	if err != nil {
		t.Fatal(err)
	}
	rec.check(t, s.ok())
	if s.Errors.Status != 0 || s.P50US <= 0 || s.P99US < s.P50US {
		t.Errorf("summary %+v", s)
	}
}

// TestVegetaRun: vegeta with the generated targets sends the same request
// at the rate asked and its report parses. Needs bin/vegeta (make bench
// installs it).
func TestVegetaRun(t *testing.T) {
	vegeta, err := filepath.Abs("../../bin/vegeta")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(vegeta); err != nil {
		t.Skip("bin/vegeta is not installed (make bench installs it)")
	}
	rec, srv, bodyPath := newRecorder(t)
	r, err := vegetaRun{vegeta: vegeta, dir: t.TempDir(), url: srv.URL + "/api/route", bodyPath: bodyPath,
		cookie: rec.want.cookie, rate: 50, duration: time.Second}.run()
	if err != nil {
		t.Fatal(err)
	}
	rec.check(t, r.ok())
	if r.Requests != 50 || r.notOK() != 0 || rateMissed(r, 50, time.Second) != "" {
		t.Errorf("report %+v", r)
	}
}
