package apitoken_test

import (
	"errors"
	"regexp"
	"testing"

	"github.com/routeapi/routeapi/internal/apitoken"
)

func TestNewLookup(t *testing.T) {
	tok, hash := apitoken.New()
	if !regexp.MustCompile(`^rk_[a-z2-7]{26}$`).MatchString(tok) {
		t.Fatalf("token %q: want rk_ and 26 base32 characters", tok)
	}
	if !apitoken.Is(tok) || apitoken.Is("eyJhbGciOi") {
		t.Error("Is: wrong answer")
	}
	other, otherHash := apitoken.New()
	if other == tok {
		t.Fatal("two new tokens are equal")
	}
	h, err := apitoken.ParseHash(hash)
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := apitoken.ParseHash(otherHash)
	entries := []apitoken.Entry{
		{Identity: apitoken.Identity{ID: "svc-other", Name: "Other"}, Hash: h2},
		{Identity: apitoken.Identity{ID: "svc-billing", Name: "Billing"}, Hash: h},
	}
	id, err := apitoken.Lookup(entries, tok)
	if err != nil || id.ID != "svc-billing" || id.Name != "Billing" {
		t.Fatalf("Lookup = %+v, %v", id, err)
	}
	for _, bad := range []string{"", "rk_", tok + "x", tok[:len(tok)-1], hash} {
		if _, err := apitoken.Lookup(entries, bad); !errors.Is(err, apitoken.ErrUnknown) {
			t.Errorf("Lookup(%q) = %v, want ErrUnknown", bad, err)
		}
	}
	if _, err := apitoken.Lookup(nil, tok); !errors.Is(err, apitoken.ErrUnknown) {
		t.Errorf("Lookup with no entries = %v, want ErrUnknown", err)
	}
}

func TestParseHash(t *testing.T) {
	for _, bad := range []string{"", "abc", "zz" + apitoken.Hash("x")[2:], apitoken.Hash("x") + "00"} {
		if _, err := apitoken.ParseHash(bad); err == nil {
			t.Errorf("ParseHash(%q): want an error", bad)
		}
	}
	// sha256sum of the bytes "rk_abc".
	if got, want := apitoken.Hash("rk_abc"), "d888437ae7defd1edf8501ce171480b52ddd4182bc83555b103bd3eab5ff8b4b"; got != want {
		t.Fatalf("Hash = %s, want %s", got, want)
	}
}
