package events

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/routeapi/routeapi/internal/rawjson"
)

// dataSlot is where Encode splices the request's data into the encoded
// event. A JSON string cannot contain it (its quotes would be escaped), so
// its first occurrence is the event's own data.data.
const dataSlot = `"data":{"data":0`

// Encode turns e into the JSON object the Event API takes, in the wire
// shape of inngestgo's event type (wireEvent; its Validate's rule: a name
// is required). e.Data.Data must be one valid JSON value, as the handler passes it
// (decoded from the request body); it is copied in, not re-encoded, so the
// cost does not grow with its size beyond a copy (white space outside
// strings is removed).
func Encode(e Event) (json.RawMessage, error) {
	buf := envelopes.Get().(*bytes.Buffer)
	defer putEnvelope(buf)
	out, at, raw, err := encodeParts(e, buf)
	if err != nil {
		return nil, err
	}
	res := make([]byte, 0, len(out)+len(raw))
	res = append(res, out[:at]...)
	res = append(res, raw...)
	return append(res, out[at+1:]...), nil
}

// envelopes are buffers for the event's envelope (encodeParts), which is
// copied into the encoded event and then no longer needed.
var envelopes = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putEnvelope returns buf to envelopes, unless a large public settings map
// made it grow past what is worth keeping.
func putEnvelope(buf *bytes.Buffer) {
	if buf.Cap() > 64<<10 {
		return
	}
	buf.Reset()
	envelopes.Put(buf)
}

// Encoded is an event with its encoding, made once (EncodeEvent): the
// size check (len(JSON) is what Inngest compares with its event size
// limit) and the publish share it instead of encoding the event twice. The
// encoding is of the event as it was: an event changed afterwards (a new
// ID) must be encoded again.
type Encoded struct {
	Event
	// JSON is Encode(Event).
	JSON json.RawMessage
}

// EncodeEvent returns e with its encoding (Encode; the same errors).
func EncodeEvent(e Event) (Encoded, error) {
	enc, err := Encode(e)
	if err != nil {
		return Encoded{}, err
	}
	return Encoded{Event: e, JSON: enc}, nil
}

// encodeParts encodes e with data 0 into buf (out, buf's bytes, whose "0"
// is at out[at]; encoding/json's Encoder writes what json.Marshal returns,
// and a newline, which out leaves out) and returns e's data compacted
// (raw), to be put in its place.
func encodeParts(e Event, buf *bytes.Buffer) (out []byte, at int, raw []byte, err error) {
	raw = []byte(e.Data.Data)
	if len(raw) == 0 || !bytes.ContainsAny(raw[:1], `{["-0123456789tfn`) {
		return nil, 0, nil, fmt.Errorf("encode event %s: data is not a JSON value", e.ID)
	}
	raw, err = rawjson.Compact(raw)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("encode event %s: data: %w", e.ID, err)
	}
	id := e.ID
	d := e.Data
	d.Data = json.RawMessage("0")
	if e.Name == "" {
		return nil, 0, nil, fmt.Errorf("encode event %s: event name must be present", e.ID)
	}
	ge := wireEvent{ID: &id, Name: e.Name, Data: d, Timestamp: e.Timestamp}
	if err := json.NewEncoder(buf).Encode(ge); err != nil {
		return nil, 0, nil, fmt.Errorf("encode event %s: %w", e.ID, err)
	}
	out = bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})
	at = bytes.Index(out, []byte(dataSlot))
	if at < 0 {
		return nil, 0, nil, fmt.Errorf("encode event %s: no data slot in %q", e.ID, out)
	}
	return out, at + len(dataSlot) - 1, raw, nil
}

// wireEvent is inngestgo v0.16.0's GenericEvent[Data] (internal/event,
// exported as inngestgo.GenericEvent): the same members, tags and order,
// so that json.Marshal writes what the SDK writes (TestWireEventIsTheSDKs
// compares them). It is declared here rather than imported: the inngestgo
// root package links gRPC, protobuf, websockets and the Inngest server
// module into the binary (docs/benchmarks.md: 3 MB of binary and about
// 2 MB of resident memory), for a struct. GenericEvent.Validate asks for a
// name and for data that is a struct or a map; Data is a struct, and
// encodeParts asks for the name.
type wireEvent struct {
	ID        *string        `json:"id,omitempty"`
	Name      string         `json:"name"`
	Data      Data           `json:"data"`
	User      map[string]any `json:"user,omitempty"` // deprecated in the SDK; never set
	Timestamp int64          `json:"ts,omitempty"`
	Version   string         `json:"v,omitempty"` // never set
}
