package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/routeapi/routeapi/gen"
	"github.com/routeapi/routeapi/internal/rawjson"
	"github.com/routeapi/routeapi/internal/settings"
)

// sentEvent is one event of a POST /api/events batch as sent: its name and
// its data's bytes as sent (never re-encoded from a decoded value, so that
// numbers, escapes and member order reach Inngest unchanged).
type sentEvent struct {
	Name string          `json:"name"`
	Data json.RawMessage `json:"data"`
}

// sentEvents takes each event's name and data from the generated union,
// which holds the event's bytes as the strict server decoded them from the
// body (gen.CatalogueEvent keeps its JSON as a json.RawMessage, copied as
// sent).
func sentEvents(in []gen.CatalogueEvent) ([]sentEvent, error) {
	out := make([]sentEvent, len(in))
	for i, e := range in {
		raw, err := e.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", i, err)
		}
		if se, ok := scanSentEvent(raw); ok {
			out[i] = se
			continue
		}
		if err := json.Unmarshal(raw, &out[i]); err != nil {
			return nil, &problemError{kind: kindInvalid, detail: detailNotJSON, err: fmt.Errorf("event %d: %w", i, err)}
		}
	}
	return out, nil
}

// scanSentEvent is what json.Unmarshal makes of raw as a sentEvent, taken
// in one pass of rawjson.Check, which is several times faster than
// encoding/json's two; ok is false when it cannot tell, and then the
// caller unmarshals raw: raw is not one object the rules take, or it has a
// member other than name and data spelled so (encoding/json would also
// match "NAME" or "Data"; the contract's additionalProperties: false
// refuses them before here, see checkCatalogue), or its name is not a
// string. A name with an escape is unescaped by encoding/json.
// TestScanSentEvent and FuzzScanSentEvent compare it with json.Unmarshal.
func scanSentEvent(raw []byte) (sentEvent, bool) {
	members, err := rawjson.Check(raw, settings.MaxDataDepth+1)
	if err != nil || len(raw) == 0 || raw[0] != '{' {
		return sentEvent{}, false
	}
	var se sentEvent
	for _, m := range members {
		switch m.Name {
		case "name":
			v := m.Value
			if len(v) < 2 || v[0] != '"' {
				return sentEvent{}, false
			}
			if bytes.IndexByte(v, '\\') >= 0 {
				if err := json.Unmarshal(v, &se.Name); err != nil {
					return sentEvent{}, false
				}
				continue
			}
			se.Name = string(v[1 : len(v)-1])
		case "data":
			se.Data = m.Value
		default:
			return sentEvent{}, false
		}
	}
	return se, true
}

// checkSentData refuses with 400 a batch that breaks a rule of what
// Inngest keeps unchanged (rawjson.Check), pointing at the offending member
// (/events/<i>/data/…). fenceBody checked the whole body as sent; without
// its state (a body the fence did not see) each event's data is checked
// here.
func checkSentData(ctx context.Context, sent []sentEvent) error {
	if st := stateFrom(ctx); st != nil && st.route != nil {
		if st.route.problem != nil {
			return acceptanceProblem(st.route.problem, "")
		}
		return nil
	}
	for i, se := range sent {
		if _, err := rawjson.Check(se.Data, settings.MaxDataDepth); err != nil {
			var p *rawjson.Problem
			if errors.As(err, &p) {
				return acceptanceProblem(p, fmt.Sprintf("/events/%d/data", i))
			}
			return &problemError{kind: kindInvalid, detail: detailNotJSON, err: err}
		}
	}
	return nil
}

// eventsAsSent is the batch's events array as sent, what an
// Idempotency-Key's fingerprint covers: from fenceBody, or (a body the
// fence did not see) the events' own bytes joined, with no character
// escaped again.
func eventsAsSent(ctx context.Context, in []gen.CatalogueEvent) (json.RawMessage, error) {
	if st := stateFrom(ctx); st != nil && st.route != nil && st.route.data != nil {
		return st.route.data, nil
	}
	var b bytes.Buffer
	b.WriteByte('[')
	for i, e := range in {
		raw, err := e.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", i, err)
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(raw)
	}
	b.WriteByte(']')
	return b.Bytes(), nil
}
