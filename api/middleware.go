package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/go-chi/chi/v5/middleware"
)

type ctxKey int

const (
	requestIDKey ctxKey = iota
	loggerKey
	credentialKey
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
			ctx := context.WithValue(r.Context(), requestIDKey, id)
			ctx = context.WithValue(ctx, loggerKey, log.With("request_id", id))
			next.ServeHTTP(w, r.WithContext(ctx))
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
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// loggerFrom returns the request's logger (with its request id).
func loggerFrom(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey).(*slog.Logger); ok {
		return l
	}
	return slog.New(slog.DiscardHandler)
}

// accessLog logs one line per request, after it is answered.
func accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		status := ww.Status()
		if status == 0 {
			status = http.StatusOK
		}
		loggerFrom(r.Context()).Info("request",
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

// limitBody reads the whole body up front, refusing more than max(r) bytes
// with 413, so that the validator and the handler work on a body of known
// size.
func limitBody(max func() int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			limit := max()
			tooLarge := &problemError{kind: kindTooLarge, detail: fmt.Sprintf("The request body is larger than %d bytes.", limit)}
			if r.ContentLength > limit {
				writeProblem(w, r, tooLarge)
				return
			}
			data, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
			if err != nil {
				writeProblem(w, r, &problemError{kind: kindInvalid, detail: "The request body could not be read.", err: err})
				return
			}
			if int64(len(data)) > limit {
				writeProblem(w, r, tooLarge)
				return
			}
			_ = r.Body.Close()
			r.Body = io.NopCloser(bytes.NewReader(data))
			r.ContentLength = int64(len(data))
			r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
			next.ServeHTTP(w, r)
		})
	}
}

// oneJSONValue refuses a body that holds more than one JSON value, or
// anything but white space after the first. The validator and the strict
// server both decode with json.Decoder, which stops after the first value
// and would let `{"data":1} trailing` through. It runs after the validator,
// so a request without a credential still gets 401 first.
func oneJSONValue(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, err := io.ReadAll(r.Body)
		if err != nil {
			writeProblem(w, r, &problemError{kind: kindInvalid, detail: "The request body could not be read.", err: err})
			return
		}
		if len(data) > 0 && !json.Valid(data) {
			writeProblem(w, r, &problemError{kind: kindInvalid, detail: "The request body is not valid JSON: it must hold exactly one JSON value."})
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(data))
		next.ServeHTTP(w, r)
	})
}
