package idempotency_test

import (
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
