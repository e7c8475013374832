package api

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/routeapi/routeapi/gen"
	"github.com/routeapi/routeapi/internal/idempotency"
)

// CatalogueNames are the event names POST /api/events takes, sorted: the
// keys of the discriminator mapping of its events' schema (CatalogueEvent)
// in the embedded contract. The settings loader checks events.disabled
// against them (settings.ParseFor).
func CatalogueNames() ([]string, error) {
	spec, err := gen.GetSpec()
	if err != nil {
		return nil, fmt.Errorf("catalogue names: load embedded spec: %w", err)
	}
	return catalogueNames(spec)
}

// catalogueNames reads the catalogue's event names from spec (see
// CatalogueNames).
func catalogueNames(spec *openapi3.T) ([]string, error) {
	item, err := catalogueSchema(spec)
	if err != nil {
		return nil, err
	}
	if item.Discriminator == nil || len(item.Discriminator.Mapping) == 0 {
		return nil, errors.New("catalogue names: the events' schema has no discriminator mapping")
	}
	return slices.Sorted(maps.Keys(item.Discriminator.Mapping)), nil
}

// catalogueSchema is the schema of one event of POST /api/events' body
// (CatalogueEvent): the items of its events array.
func catalogueSchema(spec *openapi3.T) (*openapi3.Schema, error) {
	op := operation(spec, idempotency.OperationSendEvents)
	if op == nil || op.RequestBody == nil || op.RequestBody.Value == nil {
		return nil, fmt.Errorf("catalogue: no operation %s with a request body", idempotency.OperationSendEvents)
	}
	media := op.RequestBody.Value.Content.Get("application/json")
	if media == nil || media.Schema == nil || media.Schema.Value == nil {
		return nil, errors.New("catalogue: sendEvents takes no JSON body")
	}
	events := media.Schema.Value.Properties["events"]
	if events == nil || events.Value == nil || events.Value.Items == nil || events.Value.Items.Value == nil {
		return nil, errors.New("catalogue: sendEvents' body has no events array")
	}
	return events.Value.Items.Value, nil
}

// operation is spec's operation with operationId id, or nil. It compares
// by operationKey: gen.GetSpec's copy of the contract carries oapi-codegen's
// Go names ("SendEvents"), openapi.yaml the contract's ("sendEvents").
func operation(spec *openapi3.T, id string) *openapi3.Operation {
	for _, item := range spec.Paths.Map() {
		for _, op := range item.Operations() {
			if operationKey(op.OperationID) == operationKey(id) {
				return op
			}
		}
	}
	return nil
}
