package session

import (
	"fmt"
	"net/http"
	"sort"
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
	v5 := []string{V5CookieName, V5SecureCookieName}
	if secure {
		v5 = []string{V5SecureCookieName, V5CookieName}
	}
	switch f {
	case FormatV4:
		return v4
	case FormatV5:
		return v5
	}
	return []string{v5[0], v4[0], v5[1], v4[1]}
}

// HasCookie reports whether r carries a session cookie (plain or chunked)
// under one of names, without reading it.
func HasCookie(r *http.Request, names []string) bool {
	for _, c := range r.Cookies() {
		for _, n := range names {
			if c.Name == n {
				return true
			}
			if _, ok := chunkIndex(c.Name, n); ok {
				return true
			}
		}
	}
	return false
}

// chunkIndex returns i when cookie is "<name>.<i>", the name of chunk i.
func chunkIndex(cookie, name string) (int, bool) {
	suffix, ok := strings.CutPrefix(cookie, name+".")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(suffix)
	if err != nil || i < 0 || strconv.Itoa(i) != suffix {
		return 0, false
	}
	return i, true
}

// BearerToken returns r's Authorization: Bearer token and whether the header
// uses the Bearer scheme at all.
func BearerToken(r *http.Request) (string, bool) { return bearerToken(r) }

// HasBearer reports whether r carries a non-empty Authorization: Bearer token.
func HasBearer(r *http.Request) bool {
	tok, ok := bearerToken(r)
	return ok && tok != ""
}

// Extract returns the session credential of r. Cookies come first, in the
// order of names, as next-auth's getToken does; a bearer token is used only
// when no session cookie is present. Chunked cookies (<name>.0, <name>.1, ...)
// are reassembled in numeric order and win over a stale unchunked cookie.
func Extract(r *http.Request, names []string) (Credential, error) {
	cookies := r.Cookies()
	for _, name := range names {
		tok, found, err := cookieToken(cookies, name)
		if err != nil {
			return Credential{}, fmt.Errorf("cookie %s: %w", name, err)
		}
		if found {
			return Credential{Token: tok, Source: SourceCookie, Cookie: name}, nil
		}
	}
	if tok, ok := bearerToken(r); ok {
		if tok == "" {
			return Credential{}, fmt.Errorf("authorization header: %w", ErrMalformed)
		}
		if len(tok) > maxTokenBytes {
			return Credential{}, fmt.Errorf("authorization header: token too large: %w", ErrMalformed)
		}
		return Credential{Token: tok, Source: SourceBearer}, nil
	}
	return Credential{}, ErrNoCredential
}

// cookieToken finds the token stored under name, plain or chunked.
func cookieToken(cookies []*http.Cookie, name string) (string, bool, error) {
	var plain *http.Cookie
	chunks := map[int]string{}
	for _, c := range cookies {
		if c.Name == name {
			if plain == nil {
				plain = c
			}
			continue
		}
		i, ok := chunkIndex(c.Name, name)
		if !ok {
			continue // not one of ours, e.g. a cookie named like ours plus a word
		}
		if _, dup := chunks[i]; dup {
			return "", true, fmt.Errorf("chunk %d sent twice: %w", i, ErrMalformed)
		}
		if len(chunks) >= maxChunks {
			return "", true, fmt.Errorf("more than %d chunks: %w", maxChunks, ErrMalformed)
		}
		chunks[i] = c.Value
	}
	if len(chunks) == 0 {
		if plain == nil {
			return "", false, nil
		}
		if plain.Value == "" {
			return "", true, fmt.Errorf("empty value: %w", ErrMalformed)
		}
		if len(plain.Value) > maxTokenBytes {
			return "", true, fmt.Errorf("token too large: %w", ErrMalformed)
		}
		return plain.Value, true, nil
	}
	idx := make([]int, 0, len(chunks))
	for i := range chunks {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	var b strings.Builder
	for want, i := range idx {
		if i != want {
			return "", true, fmt.Errorf("chunk %d missing: %w", want, ErrMalformed)
		}
		b.WriteString(chunks[i])
		if b.Len() > maxTokenBytes {
			return "", true, fmt.Errorf("token too large: %w", ErrMalformed)
		}
	}
	if b.Len() == 0 {
		return "", true, fmt.Errorf("empty chunks: %w", ErrMalformed)
	}
	return b.String(), true, nil
}

// bearerToken returns the token of an "Authorization: Bearer <token>" header
// and whether the header uses the Bearer scheme at all.
func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(tok), true
}
