package api

import (
	"bytes"
	"io"
	"net/http"

	"github.com/routeapi/routeapi/internal/rawjson"
)

// oneJSONValue refuses a body that holds more than one JSON value, or
// anything but white space after the first. The validator and the strict
// server both decode with json.Decoder, which stops after the first value
// and would let `{"data":1} trailing` through. It runs after the validator,
// so a request without a credential still gets 401 first. A body
// fenceBody checked is already known to be exactly one JSON value.
func oneJSONValue(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if st := stateFrom(r.Context()); st != nil && st.route != nil {
			next.ServeHTTP(w, r)
			return
		}
		data, err := io.ReadAll(r.Body)
		if err != nil {
			writeProblem(w, r, &problemError{kind: kindInvalid, detail: detailBodyUnreadable, err: err})
			return
		}
		if len(data) > 0 && !rawjson.Valid(data) {
			writeProblem(w, r, &problemError{kind: kindInvalid, detail: "The request body is not valid JSON: it must hold exactly one JSON value."})
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(data))
		next.ServeHTTP(w, r)
	})
}
