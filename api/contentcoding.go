package api

import (
	"fmt"
	"mime"
	"net/http"
	"strings"
)

// contentCoding refuses, with 415, a request body routeapi would otherwise
// read as something it is not:
//   - a Content-Encoding other than identity: routeapi decodes no content
//     coding (RFC 9110 §8.4.1 and §15.5.16; the answer carries
//     Accept-Encoding: identity), so a br or gzip body must not be read as
//     JSON text;
//   - a Content-Type charset other than UTF-8: JSON exchanged between
//     systems is UTF-8 (RFC 8259 §8.1), and a body declared otherwise would
//     reach Inngest changed;
//   - a Content-Type that cannot be read as one media type (two fields, a
//     parameter twice or without a value): its charset is unknown.
//
// Requests without a body are not looked at. A refusal leaves the body
// unread, so it is answered with refuseUnread (Connection: close, then a
// bounded linger), like an oversized body.
func contentCoding(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength == 0 && len(r.TransferEncoding) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		if c := contentCodingOf(r); c != "" {
			refuseUnread(w, r, &problemError{kind: kindUnsupportedMedia, header: http.Header{"Accept-Encoding": {"identity"}},
				detail: fmt.Sprintf("The request body has Content-Encoding %.40q, which routeapi does not decode. Send the body without a content coding.", c)})
			return
		}
		if types := r.Header.Values("Content-Type"); len(types) > 1 {
			refuseUnread(w, r, &problemError{kind: kindUnsupportedMedia,
				detail: "The request has more than one Content-Type field (RFC 9110 §8.3 allows one). Send one: application/json."})
			return
		}
		if ct := r.Header.Get("Content-Type"); ct != "" {
			// A media type routeapi cannot read (a parameter twice, one
			// without a value) might declare a charset the validator never
			// sees: refuse it rather than guess.
			_, params, err := mime.ParseMediaType(ct)
			if err != nil {
				refuseUnread(w, r, &problemError{kind: kindUnsupportedMedia, err: err,
					detail: fmt.Sprintf("The Content-Type %.60q cannot be read (%v). Send application/json.", ct, err)})
				return
			}
			if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
				refuseUnread(w, r, &problemError{kind: kindUnsupportedMedia,
					detail: fmt.Sprintf("The request body is declared as charset %.40q: JSON must be UTF-8 (RFC 8259 §8.1). Send it as UTF-8.", cs)})
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// contentCodingOf is the first content coding of r's body other than
// identity (RFC 9110 §8.4), "" when it has none.
func contentCodingOf(r *http.Request) string {
	for _, v := range r.Header.Values("Content-Encoding") {
		for c := range strings.SplitSeq(v, ",") {
			if c = strings.TrimSpace(c); c != "" && !strings.EqualFold(c, "identity") {
				return c
			}
		}
	}
	return ""
}
