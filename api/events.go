package api

import (
	"context"
	"errors"

	"github.com/routeapi/routeapi/gen"
)

// SendEvents publishes a batch of catalogue events (being written).
//
// POST /api/events
func (s *Server) SendEvents(ctx context.Context, req gen.SendEventsRequestObject) (gen.SendEventsResponseObject, error) {
	return nil, errors.New("sendEvents: not implemented yet")
}
