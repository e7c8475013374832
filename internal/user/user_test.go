package user_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/routeapi/routeapi/internal/session"
	"github.com/routeapi/routeapi/internal/user"
)

func TestFromSession(t *testing.T) {
	s := session.Session{
		Subject: "user_42", Email: "ada@example.com", Name: "Ada Lovelace", Picture: "https://example.com/ada.png",
		Claims: map[string]any{"sub": "user_42", "role": "admin", "id": "not-the-user-id"},
	}
	u, err := user.FromClaims{}.FromSession(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	want := user.User{ID: "user_42", Email: "ada@example.com", Name: "Ada Lovelace", Image: "https://example.com/ada.png"}
	if u != want {
		t.Fatalf("FromSession = %+v, want %+v", u, want)
	}
	out, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(out); got != `{"id":"user_42","email":"ada@example.com","name":"Ada Lovelace","image":"https://example.com/ada.png"}` {
		t.Errorf("JSON = %s", got)
	}
}

func TestFromSessionOnlyID(t *testing.T) {
	u, err := user.FromClaims{}.FromSession(context.Background(), session.Session{Subject: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(u)
	if string(out) != `{"id":"u1"}` {
		t.Errorf("JSON of a user with only an id = %s, want {\"id\":\"u1\"}", out)
	}
}

func TestFromSessionWithoutSubject(t *testing.T) {
	s := session.Session{Email: "ada@example.com", Claims: map[string]any{"id": "custom-id", "sub": 42}}
	if u, err := (user.FromClaims{}).FromSession(context.Background(), s); !errors.Is(err, user.ErrNoID) {
		t.Fatalf("FromSession without sub = %+v, %v; want ErrNoID", u, err)
	}
}
