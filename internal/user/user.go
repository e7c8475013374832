// Package user turns a session into the user who is acting. The user is taken
// from the session only; nothing a caller sends in a body can set it.
package user

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/routeapi/routeapi/internal/session"
)

// ErrNoID means the session names no user id, so no one can be acting.
var ErrNoID = errors.New("session has no user id")

// User is the signed-in user as events carry it.
type User struct {
	ID    string `json:"id"`
	Email string `json:"email,omitempty"`
	Name  string `json:"name,omitempty"`
	// Image is the token's picture claim, named as next-auth names it on session.user.
	Image string `json:"image,omitempty"`
}

// FromClaims maps a session to its user: {id, email, name, image: picture}.
// The id is the claim named IDClaim ("" or "sub": the token's sub), since
// apps put the id where their own jwt callback puts it (id, uid, ...). A
// session without claims (a database session) has its id in Subject.
type FromClaims struct {
	IDClaim string
}

// FromSession returns the session's user, or ErrNoID when the id claim is
// missing, empty or neither a string nor a number.
func (f FromClaims) FromSession(_ context.Context, s session.Session) (User, error) {
	id := s.Subject
	if f.IDClaim != "" && f.IDClaim != "sub" && s.Claims != nil {
		switch v := s.Claims[f.IDClaim].(type) {
		case string:
			id = v
		case json.Number: // numeric ids (e.g. an integer database id) keep their digits
			id = v.String()
		default:
			id = ""
		}
	}
	if id == "" {
		claim := f.IDClaim
		if claim == "" {
			claim = "sub"
		}
		return User{}, fmt.Errorf("user from session: claim %q: %w", claim, ErrNoID)
	}
	return User{ID: id, Email: s.Email, Name: s.Name, Image: s.Picture}, nil
}
