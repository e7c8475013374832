package api

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/routeapi/routeapi/gen"
	"github.com/routeapi/routeapi/internal/idempotency"
	"github.com/routeapi/routeapi/internal/settings"
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
	if err := checkCatalogue(item); err != nil {
		return nil, fmt.Errorf("catalogue names: %w", err)
	}
	return slices.Sorted(maps.Keys(item.Discriminator.Mapping)), nil
}

// checkCatalogue reports the first way the catalogue's schema (item, the
// events' CatalogueEvent) breaks what POST /api/events relies on, so that a
// contract edit that breaks it fails `make test` and the start, never a
// request:
//
//   - a oneOf of $refs, each once, and a discriminator on "name" whose
//     mapping names each of them exactly once and nothing else (kin-openapi
//     chooses the schema by the mapping; openapi-typescript and
//     oapi-codegen generate the union from the oneOf: a member missing from
//     either side is an event one end takes and the other refuses);
//   - each event schema requires name and data, its name has exactly one
//     enum value, the mapping's key (a different value would make the event
//     impossible to send; two schemas with the same value would make one
//     name mean two schemas);
//   - each name is one Inngest takes (settings.CheckEventName: not empty,
//     at most 255 characters, not inngest/…);
//   - each event schema allows no other member (additionalProperties:
//     false): sentEvents reads name and data with encoding/json, which also
//     matches "Name" or "DATA", so only members spelled as the schema's may
//     reach it.
func checkCatalogue(item *openapi3.Schema) error {
	d := item.Discriminator
	if d == nil || len(d.Mapping) == 0 {
		return errors.New("the events' schema has no discriminator mapping")
	}
	if d.PropertyName != "name" {
		return fmt.Errorf("the discriminator is on %q, not name", d.PropertyName)
	}
	if len(item.OneOf) == 0 {
		return errors.New("the events' schema has no oneOf")
	}
	members := make(map[string]*openapi3.Schema, len(item.OneOf))
	for i, one := range item.OneOf {
		switch {
		case one == nil || one.Ref == "" || one.Value == nil:
			return fmt.Errorf("oneOf[%d] is not a $ref to a schema", i)
		case members[one.Ref] != nil:
			return fmt.Errorf("oneOf lists %s twice", one.Ref)
		}
		members[one.Ref] = one.Value
	}
	mapped := make(map[string]string, len(d.Mapping))
	for _, name := range slices.Sorted(maps.Keys(d.Mapping)) {
		ref := d.Mapping[name].Ref
		ev, ok := members[ref]
		switch {
		case !ok:
			return fmt.Errorf("the mapping's %s is %s, which is not in the oneOf", name, ref)
		case mapped[ref] != "":
			return fmt.Errorf("the mapping gives %s two names, %s and %s", ref, mapped[ref], name)
		}
		mapped[ref] = name
		if err := checkCatalogueEvent(name, ev); err != nil {
			return fmt.Errorf("%s (%s): %w", name, ref, err)
		}
	}
	for _, one := range item.OneOf {
		if mapped[one.Ref] == "" {
			return fmt.Errorf("oneOf's %s has no name in the discriminator's mapping", one.Ref)
		}
	}
	return nil
}

// checkCatalogueEvent checks one event schema of the catalogue, mapped
// from name (see checkCatalogue).
func checkCatalogueEvent(name string, ev *openapi3.Schema) error {
	if !slices.Contains(ev.Required, "name") || !slices.Contains(ev.Required, "data") {
		return errors.New("name and data must be required")
	}
	if ap := ev.AdditionalProperties.Has; ap == nil || *ap {
		return errors.New("additionalProperties must be false")
	}
	n := ev.Properties["name"]
	if n == nil || n.Value == nil || len(n.Value.Enum) != 1 || n.Value.Enum[0] != name {
		return fmt.Errorf("name must have exactly one enum value, %q", name)
	}
	// A name Inngest's Event API refuses (inngest/…: 400 "event name is
	// reserved for internal use") would be answered 202 and dead-lettered.
	if err := settings.CheckEventName(name); err != nil {
		return fmt.Errorf("the event name %q: %w", name, err)
	}
	if d := ev.Properties["data"]; d == nil || d.Value == nil {
		return errors.New("no data schema")
	}
	return nil
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
