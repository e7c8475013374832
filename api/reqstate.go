package api

import (
	"context"
	"log/slog"
	"net/http"
)

type ctxKey int

const (
	stateKey ctxKey = iota
	credentialKey
)

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
