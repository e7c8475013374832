package inngest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// jsonArray is the JSON array of evs built the plain way: "[", the events
// joined by ",", "]".
func jsonArray(evs []json.RawMessage) []byte {
	parts := make([][]byte, len(evs))
	for i, e := range evs {
		parts[i] = e
	}
	return append(append([]byte{'['}, bytes.Join(parts, []byte{','})...), ']')
}

// TestBatchBody: the streamed batch body is the JSON array of the events,
// every time it is read (GetBody), with its length known up front.
func TestBatchBody(t *testing.T) {
	for _, evs := range [][]json.RawMessage{{}, {json.RawMessage(`{"a":1}`)}, {json.RawMessage(`{"a":1}`), json.RawMessage(`{"b":"` + strings.Repeat("x", 5000) + `"}`), json.RawMessage(`{}`)}} {
		body, n := batchBody(evs)
		want := jsonArray(evs)
		for range 2 {
			got, err := io.ReadAll(body())
			if err != nil || !bytes.Equal(got, want) || int64(len(want)) != n {
				t.Fatalf("batch body %q (n %d), %v; want %q", got, n, err, want)
			}
		}
		var b bytes.Buffer
		if _, err := io.Copy(&b, body()); err != nil || !bytes.Equal(b.Bytes(), want) {
			t.Fatalf("batch body through WriteTo %q, %v; want %q", b.Bytes(), err, want)
		}
	}
}

// TestSendContentLength: the Event API gets the batch with a Content-Length
// (not chunked), as before.
func TestSendContentLength(t *testing.T) {
	evs := []json.RawMessage{json.RawMessage(`{"name":"x","data":{}}`), json.RawMessage(`{"name":"y","data":{}}`)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ := io.ReadAll(r.Body)
		if want := jsonArray(evs); r.ContentLength != int64(len(want)) || len(r.TransferEncoding) != 0 || !bytes.Equal(got, want) {
			t.Errorf("Event API got %q, Content-Length %d, Transfer-Encoding %v", got, r.ContentLength, r.TransferEncoding)
		}
		_, _ = w.Write([]byte(`{"ids":["1","2"],"status":200}`))
	}))
	defer srv.Close()
	c, err := NewClient(ClientConfig{BaseURL: srv.URL, Dev: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Send(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
}
