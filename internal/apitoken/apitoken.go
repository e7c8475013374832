// Package apitoken handles server-to-server API tokens: "rk_<random>" bearer
// tokens that back ends send instead of a user session. Only their SHA-256
// hashes are stored (in the settings file), each with the identity the token
// acts as; a token is checked against every hash in constant time.
package apitoken

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Prefix starts every API token, so a bearer API token is told apart from a
// session token without trying to decrypt it.
const Prefix = "rk_"

// ErrUnknown means a token with the API token prefix matches no configured hash
// (wrong, or revoked by removing its line from the settings).
var ErrUnknown = errors.New("unknown API token")

// Identity is who a token acts as; it becomes the event's user.
type Identity struct {
	ID   string
	Name string
}

// Entry is one configured token: its identity and the SHA-256 of the token.
type Entry struct {
	Identity
	Hash [sha256.Size]byte
}

// Is reports whether tok has the API token form (the prefix).
func Is(tok string) bool { return strings.HasPrefix(tok, Prefix) }

// New returns a new random token (128 bits of entropy after the prefix) and
// its hash as hex, the form the settings file holds.
func New() (token, hexHash string) {
	token = Prefix + strings.ToLower(rand.Text())
	return token, Hash(token)
}

// Hash returns the hex SHA-256 of tok.
func Hash(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// ParseHash decodes a hex SHA-256 hash (64 hex digits).
func ParseHash(s string) ([sha256.Size]byte, error) {
	var h [sha256.Size]byte
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != sha256.Size {
		return h, fmt.Errorf("want 64 hex digits (the SHA-256 of the token), got %d characters", len(s))
	}
	copy(h[:], b)
	return h, nil
}

// Lookup returns the identity of the entry whose hash is tok's hash. Every
// entry is compared, in constant time, whatever matches.
func Lookup(entries []Entry, tok string) (Identity, error) {
	sum := sha256.Sum256([]byte(tok))
	found := -1
	for i := range entries {
		if subtle.ConstantTimeCompare(sum[:], entries[i].Hash[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return Identity{}, ErrUnknown
	}
	return entries[found].Identity, nil
}
