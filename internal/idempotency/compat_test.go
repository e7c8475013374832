package idempotency_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/routeapi/routeapi/internal/idempotency"
	"github.com/routeapi/routeapi/internal/testkit/pgtest"
)

// oldAnswer is an answer as routeapi wrote it before Answer.EventIDs existed.
const oldAnswer = `{"status":200,"eventId":"ev-old","ids":["01OLD"]}`

var oldWant = idempotency.Answer{Status: 200, EventID: "ev-old", IDs: []string{"01OLD"}}

// TestBoltReadsOldRecords: a record written before Answer.EventIDs (the
// JSON the earlier version stored, byte for byte) still replays, and a
// route answer written now has no eventIds member, so the earlier version
// reads it the same after a rollback.
func TestBoltReadsOldRecords(t *testing.T) {
	sp, st := openBolt(t, t.TempDir())
	t.Cleanup(func() { _ = sp.Close() })
	k, f := key("user", "u1", "old"), fp(t, `1`)
	fpJSON, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	old := fmt.Sprintf(`{"fp":%s,"state":2,"answer":%s,"expiresAt":%q,"leaseUntil":"0001-01-01T00:00:00Z"}`,
		fpJSON, oldAnswer, t0.Add(idempotency.Window).Format("2006-01-02T15:04:05Z07:00"))
	if err := sp.DB().Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("idempotency")).Put(k[:], []byte(old)) }); err != nil {
		t.Fatal(err)
	}
	res := begin(t, st, k, f, t0)
	want(t, res, idempotency.Replay, "an old record")
	if !reflect.DeepEqual(res.Answer, oldWant) {
		t.Fatalf("old record replayed %+v, want %+v", res.Answer, oldWant)
	}

	k2 := key("user", "u1", "new")
	want(t, begin(t, st, k2, f, t0), idempotency.Proceed, "a new key")
	if err := st.Complete(context.Background(), k2, f, idempotency.Answer{Status: 202, EventID: "ev-new", IDs: []string{}}); err != nil {
		t.Fatal(err)
	}
	var stored string
	_ = sp.DB().View(func(tx *bolt.Tx) error {
		stored = string(tx.Bucket([]byte("idempotency")).Get(k2[:]))
		return nil
	})
	if !strings.Contains(stored, `"answer":{"status":202,"eventId":"ev-new","ids":[]}`) {
		t.Errorf("a route answer is stored as %s, want the earlier version's shape", stored)
	}
}

// TestPostgresReadsOldRecords: the same for the PostgreSQL store's answer column.
func TestPostgresReadsOldRecords(t *testing.T) {
	ctx := context.Background()
	sp, st := openPostgres(t, pgtest.Start(t).URL)
	k, f := key("user", "u1", "old"), fp(t, `1`)
	if _, err := sp.Pool().Exec(ctx, `INSERT INTO routeapi_idempotency (key, fingerprint, state, answer, expires_at) VALUES ($1, $2, 2, $3, $4)`,
		k[:], f[:], oldAnswer, t0.Add(idempotency.Window)); err != nil {
		t.Fatal(err)
	}
	res := begin(t, st, k, f, t0)
	want(t, res, idempotency.Replay, "an old record")
	if !reflect.DeepEqual(res.Answer, oldWant) {
		t.Fatalf("old record replayed %+v, want %+v", res.Answer, oldWant)
	}

	k2 := key("user", "u1", "new")
	want(t, begin(t, st, k2, f, t0), idempotency.Proceed, "a new key")
	if err := st.Complete(ctx, k2, f, idempotency.Answer{Status: 202, EventID: "ev-new", IDs: []string{}}); err != nil {
		t.Fatal(err)
	}
	var stored string
	if err := sp.Pool().QueryRow(ctx, `SELECT answer FROM routeapi_idempotency WHERE key = $1`, k2[:]).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != `{"status":202,"eventId":"ev-new","ids":[]}` {
		t.Errorf("a route answer is stored as %s, want the earlier version's shape", stored)
	}
}
