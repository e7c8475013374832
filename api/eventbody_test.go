package api

import (
	"bytes"
	"encoding/json"
	"testing"
)

// sameAsUnmarshal fails t unless scanSentEvent, when it tells, gives what
// json.Unmarshal gives for raw; it reports whether scanSentEvent told.
func sameAsUnmarshal(t *testing.T, raw string) bool {
	t.Helper()
	got, ok := scanSentEvent([]byte(raw))
	if !ok {
		return false
	}
	var want sentEvent
	if err := json.Unmarshal([]byte(raw), &want); err != nil {
		t.Fatalf("%q: scanSentEvent takes what json.Unmarshal refuses: %v", raw, err)
	}
	if got.Name != want.Name || !bytes.Equal(got.Data, want.Data) || (got.Data == nil) != (want.Data == nil) {
		t.Fatalf("%q: scanSentEvent %q %q, json.Unmarshal %q %q", raw, got.Name, got.Data, want.Name, want.Data)
	}
	return true
}

// sentEventSeeds are events as the strict server hands them to SendEvents,
// some that scanSentEvent leaves to json.Unmarshal.
var sentEventSeeds = []string{
	`{"name":"shop/order.placed","data":{"orderId":"ord_1","currency":"EUR","total":10,"items":[{"sku":"mug","quantity":1,"unitPrice":10}]}}`,
	`{"data":{"rating":4,"page":{"path":"/checkout"}},"name":"app/feedback.submitted"}`,
	`{ "name" : "app\/feedback.submitted" , "data" : { "a" : [ 1 , 2 ] } }`,
	`{"name":"a\u00e9\ud83d\ude00","data":null}`,
	`{"name":"x","data":"s"}`,
	`{"name":"x"}`,
	`{"data":1}`,
	`{}`,
	`{"name":1,"data":{}}`,
	`{"name":null,"data":{}}`,
	`{"NAME":"x","data":{}}`,
	`{"name":"x","Data":{}}`,
	`{"name":"x","data":{},"user":1}`,
	`{"name":"x","name":"y","data":{}}`,
	`{"name":"x","data":{"a":1,"a":2}}`,
	`{"name":"\ud800","data":{}}`,
	"{\"name\":\"\xff\",\"data\":{}}",
	`[]`,
	`"x"`,
	`{"name":"x","data":{}`,
}

// TestScanSentEvent: scanSentEvent takes the catalogue's events as sent,
// with escapes and white space, and gives exactly json.Unmarshal's name and
// data whenever it takes one.
func TestScanSentEvent(t *testing.T) {
	for i, raw := range sentEventSeeds {
		if took := sameAsUnmarshal(t, raw); i < 5 && !took {
			t.Errorf("scanSentEvent does not take %q", raw)
		}
	}
}

// FuzzScanSentEvent: scanSentEvent never gives another name or data than
// json.Unmarshal for any bytes. `go test ./api -run '^$' -fuzz FuzzScanSentEvent`.
func FuzzScanSentEvent(f *testing.F) {
	for _, raw := range sentEventSeeds {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw string) { sameAsUnmarshal(t, raw) })
}
