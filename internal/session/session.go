// Package session reads the session a caller presents (Extract: the session
// cookie, plain, __Secure- or chunked, or an Authorization: Bearer token)
// and decodes JWT sessions as the app's own next-auth does (JWTResolver):
// next-auth v4 (next-auth.session-token), Auth.js v5 (authjs.session-token)
// or either (Format). Database sessions are looked up by internal/dbsession
// from the same Credential.
//
// It mirrors next-auth 4.24 and @auth/core 0.41 exactly (see
// shared/design/nextauth-sessions.md): v4 tokens are JWE with alg "dir" and
// enc "A256GCM" under one key derived with HKDF-SHA256 from the secret; v5
// tokens are JWE "dir" with A256CBC-HS512 or A256GCM under keys derived with
// HKDF-SHA256 per secret and cookie name (the salt), the kid naming the
// secret. Every key is derived once, at NewJWT. Both require exp and allow a
// 15 second clock tolerance on exp and nbf.
package session

import (
	"errors"
	"time"
)

// Errors returned by Extract and Resolve. Every one of them means the caller
// has no usable session (HTTP 401).
var (
	// ErrNoCredential means the request carries no session cookie and no bearer token.
	ErrNoCredential = errors.New("no session credential")
	// ErrMalformed means a credential is present but cannot be read (broken
	// chunks, not a JWE, an algorithm other than dir/A256GCM).
	ErrMalformed = errors.New("malformed session token")
	// ErrInvalid means the token does not decrypt with the secret (tampered,
	// or minted with another secret) or its claims are unusable.
	ErrInvalid = errors.New("invalid session token")
	// ErrExpired means the token's exp lies more than the clock tolerance in
	// the past, or a database session's expires has passed.
	ErrExpired = errors.New("session expired")
	// ErrUnavailable means the session store (the app's database) could not
	// be asked. The session may well be valid: this is not a 401.
	ErrUnavailable = errors.New("session store unavailable")
	// ErrAmbiguous means the request carries session cookies from which the
	// app's own next-auth could read different users (or a user and no one):
	// one cookie name twice with different values, or a header that next-auth
	// v4 reads differently under the pages router and the App Router.
	// routeapi never guesses: it is a 401.
	ErrAmbiguous = errors.New("ambiguous session cookies")
)

// clockTolerance is the leeway next-auth and Auth.js allow on exp and nbf.
const clockTolerance = 15 * time.Second

// Session is a decoded, valid session.
type Session struct {
	// Subject is the token's sub claim: the user id at sign-in.
	Subject string
	// Email, Name and Picture are the token's claims of those names, empty when absent or null.
	Email, Name, Picture string
	// ExpiresAt is the token's exp.
	ExpiresAt time.Time
	// Claims holds every claim of the token, for apps that keep more in it.
	// Numbers are json.Number.
	Claims map[string]any
}
