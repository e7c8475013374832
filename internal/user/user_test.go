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

func TestFromSessionIDClaim(t *testing.T) {
	s := session.Session{Subject: "random-uuid", Email: "ada@example.com",
		Claims: map[string]any{"sub": "random-uuid", "id": "user_7", "uid": json.Number("12345678901234567890"), "bad": true}}
	tests := []struct {
		claim, want string
		wantErr     bool
	}{
		{claim: "", want: "random-uuid"},
		{claim: "sub", want: "random-uuid"},
		{claim: "id", want: "user_7"},
		{claim: "uid", want: "12345678901234567890"},
		{claim: "bad", wantErr: true},
		{claim: "missing", wantErr: true},
	}
	for _, tc := range tests {
		u, err := user.FromClaims{IDClaim: tc.claim}.FromSession(context.Background(), s)
		if tc.wantErr {
			if !errors.Is(err, user.ErrNoID) {
				t.Errorf("claim %q: %+v, %v; want ErrNoID", tc.claim, u, err)
			}
			continue
		}
		if err != nil || u.ID != tc.want || u.Email != "ada@example.com" {
			t.Errorf("claim %q: %+v, %v; want id %q", tc.claim, u, err, tc.want)
		}
	}
	// A database session has no claims: its id is the user row's id, whatever the claim setting.
	u, err := user.FromClaims{IDClaim: "uid"}.FromSession(context.Background(), session.Session{Subject: "42"})
	if err != nil || u.ID != "42" {
		t.Errorf("database session with IDClaim uid: %+v, %v; want id 42", u, err)
	}
}
