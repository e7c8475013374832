package api_test

import (
	"net/http"
	"sync"
	"testing"

	"github.com/routeapi/routeapi/internal/settings"
)

// sequenceSettings answers each Current with the next settings of seq (the
// last one once seq is used up) and counts the calls: a settings file
// reloaded between two reads.
type sequenceSettings struct {
	mu    sync.Mutex
	seq   []settings.Settings
	calls int
}

func (s *sequenceSettings) Current() (settings.Settings, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.seq[min(s.calls, len(s.seq)-1)]
	s.calls++
	return cur, nil
}

func (s *sequenceSettings) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// TestSettingsReadOncePerRequest: one request reads the settings once (the
// body limit, the handler and the rest share that read), so a reload while
// a request is under way cannot give its steps different settings. The
// next request reads them again.
func TestSettingsReadOncePerRequest(t *testing.T) {
	on := goodSettings()
	off := goodSettings()
	off.Route.Enabled = false
	src := &sequenceSettings{seq: []settings.Settings{on, off}}
	h := newHarness(t, options{store: src})
	req := request{body: `{"data":1}`, cookies: []*http.Cookie{cookieFor(t, adaClaims)}}

	if rec := h.serve(t, req); rec.Code != http.StatusOK {
		t.Fatalf("first request: status %d, want 200: %s", rec.Code, rec.Body)
	}
	if n := src.count(); n != 1 {
		t.Errorf("first request read the settings %d times, want 1", n)
	}
	if rec := h.serve(t, req); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("second request (route switched off): status %d, want 503: %s", rec.Code, rec.Body)
	}
	if n := src.count(); n != 2 {
		t.Errorf("two requests read the settings %d times, want 2", n)
	}
}
