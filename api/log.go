package api

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/go-chi/chi/v5/middleware"
)

// maxRequestIDLen bounds a caller's X-Request-Id.
const maxRequestIDLen = 128

// requestID takes the caller's X-Request-Id when it is 1 to 128 visible
// ASCII characters and makes one otherwise. The id goes into the response
// header, the context and every log line of the request.
func requestID(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := r.Header.Get("X-Request-Id")
			if !validRequestID(id) {
				id = rand.Text()
			}
			w.Header().Set("X-Request-Id", id)
			st := &reqState{id: id, log: log}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), stateKey, st)))
		})
	}
}

func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

func requestIDFrom(ctx context.Context) string {
	if st := stateFrom(ctx); st != nil {
		return st.id
	}
	return ""
}

// loggerFrom returns the request's logger (with its request id). The id is
// added when a line is written (idHandler), not up front: a request that
// logs nothing at the configured level pays nothing for it.
func loggerFrom(ctx context.Context) *slog.Logger {
	st := stateFrom(ctx)
	if st == nil || st.log == nil {
		return slog.New(slog.DiscardHandler)
	}
	if st.id == "" {
		return st.log
	}
	return slog.New(&idHandler{h: st.log.Handler(), id: st.id})
}

// idHandler writes what h writes with request_id as the first attribute of
// the record, exactly as h.WithAttrs(request_id) would.
type idHandler struct {
	h  slog.Handler
	id string
}

func (h *idHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.h.Enabled(ctx, l) }

func (h *idHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	out.AddAttrs(slog.String("request_id", h.id))
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(a)
		return true
	})
	if err := h.h.Handle(ctx, out); err != nil {
		return fmt.Errorf("log with request id: %w", err)
	}
	return nil
}

func (h *idHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return h.h.WithAttrs(append([]slog.Attr{slog.String("request_id", h.id)}, as...))
}

func (h *idHandler) WithGroup(name string) slog.Handler {
	return h.h.WithAttrs([]slog.Attr{slog.String("request_id", h.id)}).WithGroup(name)
}

// accessLog logs one line per request, after it is answered, and hands the
// answered request to requests (the metrics; nil for none). One response
// writer wrapper and one clock reading serve both. When the logger drops
// info lines (ROUTEAPI_LOG_LEVEL=warn or above) and there are no metrics,
// it does not wrap the response writer or time the request at all.
func accessLog(requests RequestObserver) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			log := loggerFrom(r.Context())
			logging := log.Enabled(r.Context(), slog.LevelInfo)
			if !logging && requests == nil {
				next.ServeHTTP(w, r)
				return
			}
			start := time.Now()
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r)
			elapsed := time.Since(start)
			status := ww.Status()
			if status == 0 {
				status = http.StatusOK
			}
			if requests != nil {
				requests.ObserveRequest(r, status, elapsed)
			}
			if !logging {
				return
			}
			log.Info("request",
				"method", r.Method,
				"path", r.URL.Path,
				"status", status,
				"bytes", ww.BytesWritten(),
				"duration_ms", float64(elapsed.Microseconds())/1000,
			)
		})
	}
}

// recoverer turns a panic into a logged 500 problem, so one bad request
// cannot take the process down or leak a stack trace to the caller.
func recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler { //nolint:errorlint // sentinel compared as net/http does
				panic(v)
			}
			loggerFrom(r.Context()).Error("panic", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			writeProblem(w, r, &problemError{kind: kindInternal, detail: detailInternal, err: fmt.Errorf("panic: %v", v)})
		}()
		next.ServeHTTP(w, r)
	})
}
