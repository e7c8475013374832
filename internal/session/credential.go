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

// Extract returns the session credential of r the way next-auth's getToken
// reads it (next-auth 4.24 src/jwt/index.ts, @auth/core 0.41 src/jwt.ts):
//
//   - The Cookie header is parsed as the app parses it (see cookieheader.go
//     and cookieparsers.go). For a v4 name both Next.js readings are made,
//     the pages router's and the App Router's; when they differ the result
//     is ErrAmbiguous.
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
	return extractBearer(r)
}

// logName is a cookie name as an error may show it: the caller chooses it,
// so it is quoted and cut to 80 bytes.
func logName(n string) string {
	if len(n) > 80 {
		n = n[:80] + "..."
	}
	return strconv.Quote(n)
}
