package api_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"testing"

	"github.com/routeapi/routeapi/api"
	"github.com/routeapi/routeapi/gen"
)

// TestJSONCodecDecodesAsTheDefault checks that api.JSONCodec decodes each
// request body into the generated request types as runtime's default codec
// (a json.Decoder) does: the same value, and an error exactly when the
// default gives one. Bodies with data after the value are left out: the
// server refuses them before the strict server decodes (oneJSONValue), and
// there the two differ by design.
func TestJSONCodecDecodesAsTheDefault(t *testing.T) {
	bodies := []string{
		`{"data":0}`, `{"data":{"a":[1,2.5,"x",true,null]}}`, `{"data":"\u00e9\ud83d\ude00"}`,
		`{"data":1e400}`, `{"data":null}`, `{}`, `[]`, `"x"`, `{"data":0,"extra":1}`, `{"data`, `{"data":}`,
		` {"data":1} `, "{\"data\":\"\xff\"}",
		`{"events":[{"name":"app/feedback.submitted","data":{"rating":4}}]}`,
		`{"events":[{"name":"shop/order.placed","data":{"orderId":"o-1","items":[{"sku":"a","quantity":2}]}}]}`,
		`{"events":{}}`, `{"events":[1]}`, `{"events":[{"name":7}]}`,
	}
	targets := map[string]func() any{
		"RouteRequest":      func() any { return new(gen.RouteRequest) },
		"SendEventsRequest": func() any { return new(gen.SendEventsRequest) },
	}
	for _, body := range bodies {
		for name, newTarget := range targets {
			want, got := newTarget(), newTarget()
			wantErr := json.NewDecoder(bytes.NewReader([]byte(body))).Decode(want)
			gotErr := api.JSONCodec.UnmarshalRead(io.MultiReader(bytes.NewReader([]byte(body[:1])), bytes.NewReader([]byte(body[1:]))), got)
			if (wantErr == nil) != (gotErr == nil) {
				t.Errorf("%s %q: error %v, the default's %v", name, body, gotErr, wantErr)
				continue
			}
			var se *json.SyntaxError
			if errors.As(wantErr, &se) != errors.As(gotErr, &se) {
				t.Errorf("%s %q: error %v, the default's %v (not the same kind)", name, body, gotErr, wantErr)
			}
			if wantErr == nil && !reflect.DeepEqual(want, got) {
				t.Errorf("%s %q: decoded %#v, the default %#v", name, body, got, want)
			}
		}
	}
}
