package idempotency_test

import (
	"encoding/hex"
	"testing"

	"github.com/routeapi/routeapi/internal/idempotency"
)

// Digest is injective over (kind, id, key) whatever bytes they hold: ids
// that differ only in bytes that are not UTF-8 (a database in SQL_ASCII
// hands such ids over as they are) or in where one part ends and the next
// begins are different keys. json.Marshal, for one, writes every invalid
// byte as U+FFFD.
func TestDigestInjective(t *testing.T) {
	triples := [][3]string{
		{"user", "a\xff", "k"},
		{"user", "a\xfe", "k"},
		{"user", "a\ufffd", "k"},
		{"user", "a", "\xffk"},
		{"user", "a\xff", "\xffk"},
		{"user", "ab", "c"},
		{"user", "a", "bc"},
		{"userapitoken", "", "k"},
		{"user", "apitoken", "k"},
		{"user", "apitoken:svc", "k"},
		{"apitoken", "svc", "k"},
		{"", "", ""},
		{"user", "", ""},
		{"user", "\x00", ""},
		{"user", "", "\x00"},
	}
	seen := map[idempotency.Digest][3]string{}
	for _, tr := range triples {
		d := idempotency.Key{Principal: idempotency.Principal{Kind: tr[0], ID: tr[1]}, Key: tr[2]}.Digest()
		if prev, ok := seen[d]; ok {
			t.Errorf("%q and %q have the same digest", prev, tr)
		}
		seen[d] = tr
	}
}

// With operations: no two (kind, id, key, operation) share a digest, the
// route's keys ("" operation) included, whatever the parts spell (a key
// that ends in what an operation is, an operation that begins with what a
// key ends in, an empty key with an operation).
func TestDigestInjectiveOverOperations(t *testing.T) {
	quads := [][4]string{
		{"user", "u", "k", ""},
		{"user", "u", "k", idempotency.OperationSendEvents},
		{"user", "u", "ksendEvents", ""},
		{"user", "u", "k\x00\x00\x00\x00\x00\x00\x00\x0asendEvents", ""},
		{"user", "u", "", "k"},
		{"user", "u", "", idempotency.OperationSendEvents},
		{"user", "u", "k", "x"},
		{"user", "u", "kx", ""},
		{"user", "u", "k", "\x00"},
		{"user", "", "uk", idempotency.OperationSendEvents},
		{"apitoken", "u", "k", idempotency.OperationSendEvents},
		{"user", "apitoken:u", "k", idempotency.OperationSendEvents},
		{"", "", "", ""},
		{"", "", "", "sendEvents"},
	}
	seen := map[idempotency.Digest][4]string{}
	for _, q := range quads {
		d := idempotency.Key{Principal: idempotency.Principal{Kind: q[0], ID: q[1]}, Key: q[2], Operation: q[3]}.Digest()
		if prev, ok := seen[d]; ok {
			t.Errorf("%q and %q have the same digest", prev, q)
		}
		seen[d] = q
	}
}

// TestDigestPinned pins the digest of POST /api/route's keys (Operation
// ""): a change would orphan every key recorded in the last 24 hours, and a
// retry sent across the deploy would publish again. The values were
// computed before Operation existed and checked with Python's hashlib:
// sha256 over the uint64-BE-length-prefixed parts "routeapi idempotency
// key v2", kind, id, key.
func TestDigestPinned(t *testing.T) {
	for _, tc := range []struct {
		key  idempotency.Key
		want string
	}{
		{idempotency.Key{Principal: idempotency.Principal{Kind: "user", ID: "user_42"}, Key: "order-1"},
			"c7229c4505fd9368a0bd3ca953aa27ad1488bb785f930fb1a3220f84eb131ee0"},
		{idempotency.Key{Principal: idempotency.Principal{Kind: "apitoken", ID: "svc-billing"}, Key: "k"},
			"e5c4642c5c4cfb5019460529ee70788bea7f2694ce9351999736b0bbab527a6f"},
	} {
		d := tc.key.Digest()
		if got := hex.EncodeToString(d[:]); got != tc.want {
			t.Errorf("Digest(%+v) = %s, want %s (the route's digest changed)", tc.key, got, tc.want)
		}
	}
	// The batch's digest, pinned too (hashlib: the same parts, then
	// "sendEvents"): a batch retried across a deploy finds its key.
	k := idempotency.Key{Principal: idempotency.Principal{Kind: "user", ID: "user_42"}, Key: "order-1", Operation: idempotency.OperationSendEvents}
	d := k.Digest()
	if got, want := hex.EncodeToString(d[:]), "39d2d4fca8dc0bc274e5ceab737d39dc6d3ab8dcf804f50d599216bc9ad4dfba"; got != want {
		t.Errorf("Digest(%+v) = %s, want %s", k, got, want)
	}
}
