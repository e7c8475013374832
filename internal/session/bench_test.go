package session_test

import (
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/session"
)

// BenchmarkDecode measures decrypting and checking one next-auth v4 token
// (the key is derived once, outside the loop, as in the service).
func BenchmarkDecode(b *testing.B) {
	const secret = "bench-secret"
	tok, err := session.Encode(secret, map[string]any{"sub": "u1", "email": "u1@example.com", "name": "U One"}, time.Hour, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	r, err := session.NewJWTResolver(secret, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Decode(tok); err != nil {
			b.Fatal(err)
		}
	}
}
