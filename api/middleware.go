package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/routeapi/routeapi/internal/rawjson"
)

type ctxKey int

const (
	stateKey ctxKey = iota
	credentialKey
)

// maxRequestIDLen bounds a caller's X-Request-Id.
const maxRequestIDLen = 128

// reqState is what the middlewares of one request share. requestID puts it
// into the context once (one context value, one request copy, instead of
// one per middleware); the later middlewares fill it in.
type reqState struct {
	id  string
	log *slog.Logger // the server's logger, without the request id; nil: discard
	// body is the body as read by limitBody (valid once hasBody is set).
	body    []byte
	hasBody bool
	// route is POST /api/route's body as fenceRouteBody checked it.
	route *routeBody
}

func stateFrom(ctx context.Context) *reqState {
	st, _ := ctx.Value(stateKey).(*reqState)
	return st
}

// withState returns r's state, adding an empty one to r when it has none
// (a middleware used without requestID, as in the validation benchmark).
func withState(r *http.Request) (*http.Request, *reqState) {
	if st := stateFrom(r.Context()); st != nil {
		return r, st
	}
	st := &reqState{}
	return r.WithContext(context.WithValue(r.Context(), stateKey, st)), st
}

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

// accessLog logs one line per request, after it is answered. When the
// logger drops info lines (ROUTEAPI_LOG_LEVEL=warn or above) it does not
// wrap the response writer or time the request at all.
func accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log := loggerFrom(r.Context())
		if !log.Enabled(r.Context(), slog.LevelInfo) {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		status := ww.Status()
		if status == 0 {
			status = http.StatusOK
		}
		log.Info("request",
			"method", r.Method,
			"path", r.URL.Path,
			"status", status,
			"bytes", ww.BytesWritten(),
			"duration_ms", float64(time.Since(start).Microseconds())/1000,
		)
	})
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
			writeProblem(w, r, &problemError{kind: kindInternal, detail: "An unexpected error occurred.", err: fmt.Errorf("panic: %v", v)})
		}()
		next.ServeHTTP(w, r)
	})
}

// limitBody reads the whole body up front, refusing more than limitOf() bytes
// with 413, so that the validator and the handler work on a body of known
// size.
func limitBody(limitOf func() int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			limit := limitOf()
			tooLarge := &problemError{kind: kindTooLarge, detail: fmt.Sprintf("The request body is larger than %d bytes.", limit)}
			if r.ContentLength > limit {
				refuseUnread(w, r, tooLarge) // declared: nothing read (bodyread.go)
				return
			}
			data, err := readBody(r.Body, r.ContentLength, limit)
			if err != nil {
				writeProblem(w, r, bodyReadProblem(err)) // 408 for a timeout, else 400
				return
			}
			if int64(len(data)) > limit {
				refuseUnread(w, r, tooLarge) // detected: the rest is still arriving
				return
			}
			_ = r.Body.Close()
			r, st := withState(r)
			st.body, st.hasBody = data, true
			setBody(r, data)
			next.ServeHTTP(w, r)
		})
	}
}

// readBody reads at most limit+1 bytes of body into one buffer sized by
// the Content-Length hint when it is sent (-1 otherwise), so a body of the
// announced size is read without growing or copying the buffer. (Neither
// io.ReadAll nor bytes.Buffer.ReadFrom does that: ReadFrom wants 512 free
// bytes before every read and doubles a buffer of exactly the right size.)
func readBody(body io.Reader, hint, limit int64) ([]byte, error) {
	size := int64(512)
	if hint >= 0 {
		size = min(hint, limit) + 1
	}
	buf := make([]byte, 0, size)
	lr := io.LimitReader(body, limit+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, fmt.Errorf("read request body: %w", err)
		}
	}
}

// bytesBody is a request body read from memory.
type bytesBody struct{ bytes.Reader }

func (*bytesBody) Close() error { return nil }

// setBody makes data r's body (for Body and GetBody, which kin-openapi reads).
func setBody(r *http.Request, data []byte) {
	b := &bytesBody{}
	b.Reset(data)
	r.Body = b
	r.ContentLength = int64(len(data))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
}

// oneJSONValue refuses a body that holds more than one JSON value, or
// anything but white space after the first. The validator and the strict
// server both decode with json.Decoder, which stops after the first value
// and would let `{"data":1} trailing` through. It runs after the validator,
// so a request without a credential still gets 401 first. A body
// fenceRouteBody checked is already known to be exactly one JSON value.
func oneJSONValue(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if st := stateFrom(r.Context()); st != nil && st.route != nil {
			next.ServeHTTP(w, r)
			return
		}
		data, err := io.ReadAll(r.Body)
		if err != nil {
			writeProblem(w, r, &problemError{kind: kindInvalid, detail: "The request body could not be read.", err: err})
			return
		}
		if len(data) > 0 && !rawjson.Valid(data) {
			writeProblem(w, r, &problemError{kind: kindInvalid, detail: "The request body is not valid JSON: it must hold exactly one JSON value."})
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(data))
		next.ServeHTTP(w, r)
	})
}
