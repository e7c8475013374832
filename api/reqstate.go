package api

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/routeapi/routeapi/internal/settings"
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
	// route is the body of POST /api/route or POST /api/events as
	// fenceBody checked it, with the bytes the validator reads.
	route *routeBody
	// set and setErr are the settings in force as read once for this
	// request (Server.settingsFor), valid once setRead is set.
	set     settings.Settings
	setErr  error
	setRead bool
}

func stateFrom(ctx context.Context) *reqState {
	st, _ := ctx.Value(stateKey).(*reqState)
	return st
}

// settingsFor returns the settings in force for the request of ctx. They are
// read from the source once, at the first ask (the body limit, the handler,
// the readiness probe), and the same settings serve the rest of the
// request, even when the file is reloaded meanwhile.
func (s *Server) settingsFor(ctx context.Context) (settings.Settings, error) {
	st := stateFrom(ctx)
	if st == nil {
		return s.settings.Current()
	}
	if !st.setRead {
		st.set, st.setErr = s.settings.Current()
		st.setRead = true
	}
	return st.set, st.setErr
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
