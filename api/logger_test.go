package api

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestLoggerFromMatchesWith: the lazily added request id gives the same log
// lines as slog's Logger.With, also with With and WithGroup on top.
func TestLoggerFromMatchesWith(t *testing.T) {
	noTime := func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}
	var want, got bytes.Buffer
	base := func(w *bytes.Buffer) *slog.Logger {
		return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{ReplaceAttr: noTime}))
	}
	eager := base(&want).With("request_id", "rid-1")
	ctx := context.WithValue(context.Background(), stateKey, &reqState{id: "rid-1", log: base(&got)})
	lazy := loggerFrom(ctx)

	for _, l := range [][2]*slog.Logger{
		{eager, lazy},
		{eager.With("k", 1), lazy.With("k", 1)},
		{eager.WithGroup("g"), lazy.WithGroup("g")},
	} {
		l[0].Info("event published", "event_id", "e1", "ids", []string{"a"}, "d", time.Second)
		l[1].Info("event published", "event_id", "e1", "ids", []string{"a"}, "d", time.Second)
	}
	if got.String() != want.String() {
		t.Fatalf("lazy request id logs\n%s\nwant\n%s", got.String(), want.String())
	}
	if !strings.Contains(got.String(), `"request_id":"rid-1"`) {
		t.Fatalf("no request id in %s", got.String())
	}
	if loggerFrom(context.Background()).Enabled(context.Background(), slog.LevelError) {
		t.Fatal("a context without a request state should log nowhere")
	}
}

// TestReadBody: bodies with and without a Content-Length hint, a wrong hint,
// and one over the limit (limit+1 bytes come back, for the 413).
func TestReadBody(t *testing.T) {
	body := strings.Repeat("x", 3000)
	for _, c := range []struct {
		hint, limit int64
		want        int
	}{
		{3000, 4000, 3000}, {-1, 4000, 3000}, {10, 4000, 3000}, {5000, 4000, 3000}, {3000, 100, 101}, {-1, 100, 101}, {0, 0, 1},
	} {
		got, err := readBody(strings.NewReader(body), c.hint, c.limit)
		if err != nil || len(got) != c.want || string(got) != body[:c.want] {
			t.Errorf("readBody(hint %d, limit %d) = %d bytes, %v; want %d bytes", c.hint, c.limit, len(got), err, c.want)
		}
	}
	if got, err := readBody(strings.NewReader(""), 0, 10); err != nil || len(got) != 0 {
		t.Errorf("empty body: %q, %v", got, err)
	}
}
