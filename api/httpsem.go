package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/routeapi/routeapi/internal/httpmethod"
)

// headKey marks a HEAD request shown to the validator as GET (headValidation).
type headKey struct{}

// MaxHeaderBytes is the largest request head routeapi answers: the request
// line and the header fields, counted as HTTP/1.1 would send them after
// net/http's parse (headerBytes: "Name: value" and CRLF per field, so a field
// sent as "Name:value" counts one byte more than it took on the wire). A
// larger head gets a 431 request-header-fields-too-large problem. The HTTP
// server's own limit (ServerMaxHeaderBytes) is higher, so that such
// requests reach routeapi's handlers at all.
const MaxHeaderBytes = 64 << 10

// ServerMaxHeaderBytes is what the HTTP server must be given as
// http.Server.MaxHeaderBytes (net/http's default, 1 MiB). A head over it is
// refused by net/http itself, before routeapi sees the request, with a
// plain-text 431 (see README, "Answers that are not problem documents").
const ServerMaxHeaderBytes = 1 << 20

// noSniff sets X-Content-Type-Options: nosniff on every answer, so that no
// browser reads a JSON or problem document as HTML or script.
func noSniff(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}

// limitHeaders answers 431 request-header-fields-too-large when the request
// head is larger than max bytes (headerBytes).
func limitHeaders(maxBytes int) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if n := headerBytes(r); n > maxBytes {
				writeProblem(w, r, &problemError{
					kind:   kindHeaderTooLarge,
					detail: fmt.Sprintf("The request line and header fields are larger than %d bytes.", maxBytes),
					err:    fmt.Errorf("request head of %d bytes", n),
				})
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// headerBytes is the size of r's head as sent over HTTP/1.1: the request
// line and CRLF, each field line ("Name: value" and CRLF; Host included,
// which net/http moves out of r.Header) and the empty line that ends the
// head. For HTTP/2 it is the same count over the decoded fields.
func headerBytes(r *http.Request) int {
	n := len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto) + 2
	if r.Host != "" {
		n += len("Host: ") + len(r.Host) + 2
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + 2 + len(v) + 2
		}
	}
	return n + 2
}

// headAsGet routes HEAD to the GET handler of a path that has no HEAD
// handler of its own (chi's middleware.GetHead): every GET route answers
// HEAD with the same status and header fields and no body (RFC 9110 §9.3.2;
// net/http drops the body written for a HEAD request).
func headAsGet(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			rctx := chi.RouteContext(r.Context())
			if path := chiRoutePath(r); !rctx.Routes.Match(chi.NewRouteContext(), http.MethodHead, path) {
				rctx.RouteMethod = http.MethodGet
				rctx.RoutePath = path
			}
		}
		next.ServeHTTP(w, r)
	})
}

// chiRoutePath is the path chi routes r by.
func chiRoutePath(r *http.Request) string {
	if rctx := chi.RouteContext(r.Context()); rctx != nil && rctx.RoutePath != "" {
		return rctx.RoutePath
	}
	if r.URL.RawPath != "" {
		return r.URL.RawPath
	}
	return r.URL.Path
}

// allowed lists the methods the router answers at r's path, in the order of
// httpmethod.Known; HEAD is there wherever GET is (headAsGet).
func allowed(r *http.Request) []string {
	rctx := chi.RouteContext(r.Context())
	if rctx == nil || rctx.Routes == nil {
		return nil
	}
	path := chiRoutePath(r)
	var out []string
	for _, m := range httpmethod.Known {
		ok := rctx.Routes.Match(chi.NewRouteContext(), m, path)
		if m == http.MethodHead && !ok {
			ok = rctx.Routes.Match(chi.NewRouteContext(), http.MethodGet, path)
		}
		if ok {
			out = append(out, m)
		}
	}
	return out
}

// methodNotAllowed answers a method the path does not accept: 405 with the
// Allow field listing those it does (RFC 9110 §15.5.6 requires it on every
// 405). A path that accepts no method at all (chi answers an unknown method
// as 405 before it looks at the path) is not found: 404.
func methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	allow := allowed(r)
	if len(allow) == 0 {
		writeProblem(w, r, &problemError{kind: kindNotFound, detail: "There is nothing at this path."})
		return
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	writeProblem(w, r, &problemError{kind: kindMethodNotAllowed, detail: "This path does not accept this method. It accepts " + strings.Join(allow, ", ") + "."})
}

// headValidation shows the request validator a HEAD request as the GET it
// stands for (the spec describes GET; HEAD is GET without the body), and
// gives the handlers behind it the request as sent.
func headValidation(validate func(http.Handler) http.Handler) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		restore := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Context().Value(headKey{}) != nil {
				r = r.Clone(r.Context())
				r.Method = http.MethodHead
			}
			next.ServeHTTP(w, r)
		})
		validated := validate(restore)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodHead {
				r = r.Clone(context.WithValue(r.Context(), headKey{}, true))
				r.Method = http.MethodGet
			}
			validated.ServeHTTP(w, r)
		})
	}
}
