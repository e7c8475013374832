package session

import (
	"fmt"
	"net/http"
	"strings"
)

// BearerToken returns r's Authorization: Bearer token and whether the header
// uses the Bearer scheme at all.
func BearerToken(r *http.Request) (string, bool) { return bearerToken(r) }

// HasBearer reports whether r carries a non-empty Authorization: Bearer token.
func HasBearer(r *http.Request) bool {
	tok, ok := bearerToken(r)
	return ok && tok != ""
}

// extractBearer reads r's Authorization: Bearer token, as getToken does when
// no session cookie holds a value.
func extractBearer(r *http.Request) extraction {
	tok, ok := bearerToken(r)
	if !ok {
		return extraction{err: ErrNoCredential}
	}
	if tok == "" {
		return extraction{err: fmt.Errorf("authorization header: empty bearer token: %w", ErrMalformed)}
	}
	if len(tok) > maxTokenBytes {
		return extraction{err: fmt.Errorf("authorization header: token too large: %w", ErrMalformed)}
	}
	if strings.Contains(tok, "%") {
		// getToken passes the bearer token through decodeURIComponent and
		// gives up when that throws.
		d, ok := decodeURIComponent(tok)
		if !ok {
			return extraction{err: fmt.Errorf("authorization header: bad percent-encoding: %w", ErrMalformed)}
		}
		tok = d
	}
	return extraction{cred: Credential{Token: tok, Source: SourceBearer}}
}

// bearerToken returns the token of an "Authorization: Bearer <token>" header
// and whether the header uses the Bearer scheme at all.
//
// getToken takes the second space-separated word after an exact "Bearer";
// routeapi reads the scheme in any case (RFC 9110 §11.1: schemes are
// case-insensitive) and allows several spaces or tabs before the token, as
// RFC 9110 §11.4's 1*SP and its OWS; words after the token are ignored, as
// getToken ignores them.
func bearerToken(r *http.Request) (string, bool) {
	f := strings.Fields(r.Header.Get("Authorization"))
	if len(f) == 0 || !strings.EqualFold(f[0], "Bearer") {
		return "", false
	}
	if len(f) == 1 {
		return "", true
	}
	return f[1], true
}
