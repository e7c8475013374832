package api

import (
	"encoding/json"
	"errors"
	"io"

	"github.com/oapi-codegen/runtime"
)

// JSONCodec is the JSON codec for the code oapi-codegen generated (gen/):
// encoding/json, as runtime's default is, except that a request body is
// read whole and decoded with json.Unmarshal instead of a json.Decoder
// (a body that ends inside its value is io.ErrUnexpectedEOF, as the
// Decoder says).
// main installs it (runtime.SetJSONCodec) before the server starts.
//
// The default streams the body through a json.Decoder, after
// runtime.JSONUnmarshalRead has read its first byte to tell an empty body
// (io.EOF) and put it back with an io.MultiReader: the decoder then reads
// one byte, then grows its buffer from 512 bytes, and decodes. Every body
// reaching the strict server is already in memory (limitBody) and is one
// JSON value (oneJSONValue refuses anything after it), so reading it whole
// and unmarshalling gives the same value and the same errors for less: one
// buffer and no decoder. What json.Unmarshal would reject and a Decoder
// would not, data after the value, never gets this far.
var JSONCodec interface {
	runtime.JSONCodec
	runtime.StreamingJSONCodec
} = jsonCodec{}

type jsonCodec struct{ runtime.StdJSONCodec }

// MarshalWrite is the default's: json.Encoder (a trailing newline).
func (jsonCodec) MarshalWrite(w io.Writer, v any) error { return json.NewEncoder(w).Encode(v) }

// UnmarshalRead reads r to its end and decodes it with json.Unmarshal.
func (jsonCodec) UnmarshalRead(r io.Reader, v any) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	err = json.Unmarshal(data, v)
	if se, ok := errors.AsType[*json.SyntaxError](err); ok && se.Error() == "unexpected end of JSON input" {
		// The input ended inside the value: a Decoder's io.ErrUnexpectedEOF.
		return io.ErrUnexpectedEOF
	}
	return err
}
