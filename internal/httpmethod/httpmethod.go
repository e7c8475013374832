// Package httpmethod is the set of request methods routeapi recognises: those
// RFC 9110 §9.3 defines and PATCH (RFC 5789).
package httpmethod

import "net/http"

// Known are the recognised methods, in the order an Allow field lists them.
var Known = []string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace,
}

// Other is the label of every method that is not Known.
const Other = "other"

// Label returns m when it is Known (compared exactly: methods are
// case-sensitive, RFC 9110 §9.1) and Other for any other method, so a label
// taken from requests comes from a set of ten values.
func Label(m string) string {
	for _, k := range Known {
		if m == k {
			return m
		}
	}
	return Other
}
