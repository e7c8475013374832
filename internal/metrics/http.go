package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/routeapi/routeapi/internal/httpmethod"
)

// ObserveRequest counts and times one answered request by chi route
// pattern, method and status (api.RequestObserver: the HTTP server's access
// log calls it with the status and duration it measured). Every label value
// comes from a bounded set: the route is a pattern of the router ("other"
// for a path no route matches), the method one of httpmethod.Known or
// "other", the status one routeapi answers with.
func (m *Metrics) ObserveRequest(r *http.Request, status int, elapsed time.Duration) {
	route := "other"
	if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
		route = rc.RoutePattern()
	}
	method := httpmethod.Label(r.Method)
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route, method).Observe(elapsed.Seconds())
}
