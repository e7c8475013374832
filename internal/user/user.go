// Package user turns a session into the user who is acting. The user is taken
// from the session only; nothing a caller sends in a body can set it.
package user

import (
	"context"
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

// FromClaims maps a JWT session to its user: {id: sub, email, name, image: picture}.
type FromClaims struct{}

// FromSession returns the session's user, or ErrNoID when its sub claim is empty.
func (FromClaims) FromSession(_ context.Context, s session.Session) (User, error) {
	if s.Subject == "" {
		return User{}, fmt.Errorf("user from session: %w", ErrNoID)
	}
	return User{ID: s.Subject, Email: s.Email, Name: s.Name, Image: s.Picture}, nil
}
