package session

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Cookie names next-auth v4 uses for the JWT session.
const (
	CookieName       = "next-auth.session-token"
	SecureCookieName = "__Secure-" + CookieName
)

// Limits that keep a hostile request from costing much.
const (
	maxChunks     = 64
	maxTokenBytes = 256 << 10
)

// Source tells where a credential was found.
type Source string

// Where a credential can come from.
const (
	SourceCookie Source = "cookie"
	SourceBearer Source = "bearer"
)

// Credential is the raw session token a caller presented.
type Credential struct {
	// Token is the compact token, reassembled from its chunks if it was chunked.
	Token string
	// Source is where the token was found.
	Source Source
	// Cookie is the (base) cookie name the token was read from, empty for a bearer token.
	Cookie string
}

// CookieNames returns the session cookie names to look for, the expected one
// first: __Secure-next-auth.session-token when secure is true (NEXTAUTH_URL
// is https), next-auth.session-token otherwise. Both are accepted; the key
// does not depend on the name in v4.
func CookieNames(secure bool) []string {
	if secure {
		return []string{SecureCookieName, CookieName}
	}
	return []string{CookieName, SecureCookieName}
}

// Format is which next-auth JWT format sessions are read in.
type Format string

// Session formats (ROUTEAPI_SESSION_FORMAT).
const (
	// FormatAuto reads whichever known cookie is present, v4 or v5.
	FormatAuto Format = "auto"
	// FormatV4 reads next-auth v4 cookies only.
	FormatV4 Format = "v4"
	// FormatV5 reads Auth.js v5 (authjs.*) cookies only.
	FormatV5 Format = "v5"
)

// CookieNamesFor returns the session cookie names read in format f, the
// expected one first (the __Secure- names first when secure is true). Auto
// reads the v5 names and the v4 names, v5 first: an app that moved from v4
// to v5 may still hold a stale v4 cookie, never the reverse.
func CookieNamesFor(f Format, secure bool) []string {
	v4 := CookieNames(secure)
	v5 := v5CookieNames(secure)
	switch f {
	case FormatV4:
		return v4
	case FormatV5:
		return v5
	}
	return []string{v5[0], v4[0], v5[1], v4[1]}
}

// HasCookie reports whether r carries a cookie that next-auth would read
// as (part of) a session cookie under one of names: one whose name starts
// with it, as SessionStore's prefix match, without reading it.
func HasCookie(r *http.Request, names []string) bool {
	h := cookieHeader(r)
	keep := sessionPrefixes(names)
	return len(parseNextCookie(h, keep)) > 0 || len(parseEdgeCookies(h, keep)) > 0 || len(parseCookie1(h, keep)) > 0
}

// sessionPrefixes accepts the cookie names next-auth's SessionStore reads
// under one of names: those that start with it.
func sessionPrefixes(names []string) func(string) bool {
	return func(cookie string) bool {
		for _, n := range names {
			if strings.HasPrefix(cookie, n) {
				return true
			}
		}
		return false
	}
}

// BearerToken returns r's Authorization: Bearer token and whether the header
// uses the Bearer scheme at all.
func BearerToken(r *http.Request) (string, bool) { return bearerToken(r) }

// HasBearer reports whether r carries a non-empty Authorization: Bearer token.
func HasBearer(r *http.Request) bool {
	tok, ok := bearerToken(r)
	return ok && tok != ""
}

// Extract returns the session credential of r the way next-auth's getToken
// reads it (next-auth 4.24 src/jwt/index.ts, @auth/core 0.41 src/jwt.ts):
//
//   - The Cookie header is parsed as the app parses it (see cookieheader.go).
//     For a v4 name both Next.js readings are made, the pages router's and
//     the App Router's; when they differ the result is ErrAmbiguous.
//   - The session cookie under a name is what SessionStore makes of every
//     cookie whose name starts with it: empty values add nothing, one
//     non-empty cookie is the token whatever its suffix, several are joined
//     in numeric order when they are all chunks "<name>.<n>", and a plain
//     cookie beside chunks (which next-auth joins into no valid token) is
//     ErrMalformed.
//   - names are tried in order; the first that holds a value wins (getToken
//     reads one name; routeapi also reads the other, see CookieNamesFor).
//   - Only when no name holds a value is "Authorization: Bearer <token>"
//     read; an empty cookie (as a sign-out leaves it) is no cookie.
//   - One cookie name sent twice with different values is ErrAmbiguous.
func Extract(r *http.Request, names []string) (Credential, error) {
	h := cookieHeader(r)
	keep := sessionPrefixes(names)
	all := parseCookie1(h, keep) // the session cookies, values as sent (quotes kept)
	if len(all) > 4*maxChunks {
		return Credential{}, fmt.Errorf("%d session cookies: %w", len(all), ErrMalformed)
	}
	v5 := authjs.read(h, keep)
	pagesJar, appJar := pagesRouter.read(h, keep), appRouter.read(h, keep)
	pages := extractWith(r, all, names, pagesJar, v5)
	app := pages
	if !pagesJar.equal(appJar) {
		app = extractWith(r, all, names, appJar, v5)
	}
	if !pages.same(app) {
		return Credential{}, fmt.Errorf("the pages router reads %s, the App Router reads %s: %w", pages, app, ErrAmbiguous)
	}
	return pages.cred, pages.err
}

// extraction is one reading of a request: a credential or why there is none.
type extraction struct {
	cred Credential
	err  error
}

func (e extraction) same(o extraction) bool {
	if e.err != nil || o.err != nil {
		return e.err != nil && o.err != nil && e.err.Error() == o.err.Error()
	}
	return e.cred == o.cred
}

// String describes the reading without the token.
func (e extraction) String() string {
	switch {
	case e.err != nil:
		return "no session (" + e.err.Error() + ")"
	case e.cred.Source == SourceBearer:
		return "the bearer token"
	}
	return "cookie " + e.cred.Cookie
}

// extractWith reads r with v4 names looked up in v4 (a Next.js router's
// reading of the header) and v5 names in v5 (@auth/core's).
func extractWith(r *http.Request, all []cookiePair, names []string, v4, v5 jar) extraction {
	for _, name := range names {
		if err := checkDuplicates(all, name); err != nil {
			return extraction{err: err}
		}
		j := v4
		if isV5Cookie(name) {
			j = v5
		}
		tok, found, err := storeValue(j, name)
		if err != nil {
			return extraction{err: fmt.Errorf("cookie %s: %w", name, err)}
		}
		if found {
			return extraction{cred: Credential{Token: tok, Source: SourceCookie, Cookie: name}}
		}
	}
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

// checkDuplicates refuses pairs (a Cookie header split with its values kept
// as sent, %XX decoded) that carry one session cookie name (a name starting
// with name) twice with different values: after a cookie-domain change a
// browser sends a host-only and a Domain= cookie side by side, the pages
// router and Auth.js keep the first and the App Router the last, so who is
// signed in depends on the reader. The same value twice is not ambiguous.
func checkDuplicates(all []cookiePair, name string) error {
	seen := map[string]string{}
	for _, p := range all {
		if !strings.HasPrefix(p.name, name) {
			continue
		}
		if v, dup := seen[p.name]; dup && v != p.value {
			return fmt.Errorf("cookie %s sent twice with different values: %w", logName(p.name), ErrAmbiguous)
		}
		seen[p.name] = p.value
	}
	return nil
}

// storeValue is next-auth's SessionStore value for the cookie name: every
// cookie of j whose name starts with name, joined in SessionStore's order
// (chunkorder.go: by parseInt of the name's last "."-separated part, in V8's
// sort). Cookies with empty values add nothing (Auth.js skips them; next-auth
// v4 keeps them, and they take part in its sort). found is whether any
// cookie has a value: only then does getToken not read a bearer token. A
// join that is no token fails to decode later, as it does in next-auth.
func storeValue(j jar, name string) (string, bool, error) {
	v5 := isV5Cookie(name)
	keys, values := storeKeys(j, name, v5)
	switch values {
	case 0:
		return "", false, nil
	case 1:
		return singleValue(j, keys)
	}
	return joinChunks(j, keys, values, v5)
}

// storeKeys lists the names of j that SessionStore keeps under name, in j's
// order, and counts those with a value. v5 (Auth.js) drops empty cookies;
// v4 keeps them.
func storeKeys(j jar, name string, v5 bool) (keys []string, values int) {
	for _, n := range j.names {
		if !strings.HasPrefix(n, name) {
			continue
		}
		if j.values[n] != "" {
			values++
		} else if v5 {
			continue
		}
		keys = append(keys, n)
	}
	return keys, values
}

// singleValue is the one non-empty value among keys: the token, whatever
// its name's suffix.
func singleValue(j jar, keys []string) (string, bool, error) {
	for _, n := range keys {
		if v := j.values[n]; v != "" {
			if len(v) > maxTokenBytes {
				return "", true, fmt.Errorf("token too large: %w", ErrMalformed)
			}
			return v, true, nil
		}
	}
	return "", false, nil // not reached: storeKeys counted one value
}

// joinChunks joins the values of keys (values of them non-empty) in
// SessionStore's order, within the chunk and size limits.
func joinChunks(j jar, keys []string, values int, v5 bool) (string, bool, error) {
	if values > maxChunks || len(keys) > 4*maxChunks {
		return "", true, fmt.Errorf("more than %d chunks: %w", maxChunks, ErrMalformed)
	}
	order := make([]float64, len(keys))
	n := 0
	for i, k := range keys {
		order[i] = chunkKey(k, v5)
		n += len(j.values[k])
	}
	if n > maxTokenBytes {
		return "", true, fmt.Errorf("token too large: %w", ErrMalformed)
	}
	if err := jsSort(keys, order); err != nil {
		return "", true, err
	}
	var b strings.Builder
	b.Grow(n)
	for _, k := range keys {
		b.WriteString(j.values[k])
	}
	return b.String(), true, nil
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

// logName is a cookie name as an error may show it: the caller chooses it,
// so it is quoted and cut to 80 bytes.
func logName(n string) string {
	if len(n) > 80 {
		n = n[:80] + "..."
	}
	return strconv.Quote(n)
}
