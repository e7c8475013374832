package idempotency

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/routeapi/routeapi/internal/diskspace"
)

var (
	keysBucket   = []byte("idempotency")
	expiryBucket = []byte("idempotency-expiry")
)

// recordCost is about what a reservation writes in a file of pageSize
// pages: the record, its expiry entry, their leaf and branch pages, the
// freelist and the meta page.
func recordCost(pageSize int) uint64 {
	return uint64(512 + 8*pageSize) //nolint:gosec // G115: the page size is positive
}

// Bolt keeps keys in two buckets of a bbolt file (the spool's): the records
// by digest, and an index by expiry so that Cleanup reads only what expired.
type Bolt struct {
	db      *bolt.DB
	reserve *diskspace.Reserve
	// cost is what a reservation is admitted for (recordCost), computed once:
	// db.Info reads the mmap unlocked and faults while a commit remaps it.
	cost uint64
}

var _ Store = (*Bolt)(nil)

// NewBolt stores keys in db (created buckets if needed); new reservations
// are admitted by reserve (nil: always).
func NewBolt(db *bolt.DB, reserve *diskspace.Reserve) (*Bolt, error) {
	var pageSize int
	err := db.Update(func(tx *bolt.Tx) error {
		// In a write transaction no commit can remap the file under Info.
		pageSize = db.Info().PageSize
		if _, err := tx.CreateBucketIfNotExists(keysBucket); err != nil {
			return err
		}
		_, err := tx.CreateBucketIfNotExists(expiryBucket)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("idempotency store: create buckets: %w", err)
	}
	return &Bolt{db: db, reserve: reserve, cost: recordCost(pageSize)}, nil
}

func expiryKey(at time.Time, key Digest) []byte {
	return append(binary.BigEndian.AppendUint64(nil, uint64(max(at.UnixNano(), 0))), key[:]...) //nolint:gosec // G115: clamped to >= 0
}

func getRecord(tx *bolt.Tx, key Digest) (*record, error) {
	v := tx.Bucket(keysBucket).Get(key[:])
	if v == nil {
		return nil, nil
	}
	var r record
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, fmt.Errorf("record %x: %w", key[:8], err)
	}
	return &r, nil
}

// putRecord stores next for key, moving its expiry entry if it changed.
func putRecord(tx *bolt.Tx, key Digest, cur, next *record) error {
	v, err := json.Marshal(next)
	if err != nil {
		return err
	}
	if err := tx.Bucket(keysBucket).Put(key[:], v); err != nil {
		return err
	}
	exp := tx.Bucket(expiryBucket)
	if cur != nil && !cur.ExpiresAt.Equal(next.ExpiresAt) {
		if err := exp.Delete(expiryKey(cur.ExpiresAt, key)); err != nil {
			return err
		}
	}
	if cur == nil || !cur.ExpiresAt.Equal(next.ExpiresAt) {
		return exp.Put(expiryKey(next.ExpiresAt, key), nil)
	}
	return nil
}

// Begin looks the key up and reserves it when free. Lookups that end in a
// replay or a refusal write nothing; a reservation is admitted by the disk
// reserve, then decided again in the write transaction (concurrent
// requests with one key are serialised by bbolt's single writer).
func (s *Bolt) Begin(_ context.Context, key Digest, fp Fingerprint, now time.Time, lease time.Duration) (Result, error) {
	var res Result
	var write bool
	err := s.db.View(func(tx *bolt.Tx) error {
		cur, err := getRecord(tx, key)
		if err != nil {
			return err
		}
		var next *record
		res, next = decide(cur, fp, now, lease)
		write = next != nil
		return nil
	})
	if err != nil {
		return Result{}, fmt.Errorf("idempotency begin: %w", err)
	}
	if !write {
		return res, nil
	}
	done, err := s.reserve.Acquire(s.cost)
	if err != nil {
		return Result{}, fmt.Errorf("idempotency begin: %w", err)
	}
	defer done()
	err = s.db.Update(func(tx *bolt.Tx) error {
		cur, err := getRecord(tx, key)
		if err != nil {
			return err
		}
		var next *record
		res, next = decide(cur, fp, now, lease)
		if next == nil {
			return nil
		}
		return putRecord(tx, key, cur, next)
	})
	if err != nil {
		return Result{}, fmt.Errorf("idempotency begin: %w", err)
	}
	return res, nil
}

// update applies a transition to the key's record. Not guarded by the
// reserve: it replaces a record of the same size.
func (s *Bolt) update(key Digest, step func(*record) (*record, error)) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		cur, err := getRecord(tx, key)
		if err != nil {
			return err
		}
		next, err := step(cur)
		if err != nil || next == nil {
			return err
		}
		return putRecord(tx, key, cur, next)
	})
}

// Complete records the answer.
func (s *Bolt) Complete(_ context.Context, key Digest, fp Fingerprint, a Answer) error {
	if err := s.update(key, func(cur *record) (*record, error) { return complete(cur, fp, a) }); err != nil {
		return fmt.Errorf("idempotency complete: %w", err)
	}
	return nil
}

// Recorded returns the answer recorded for key with fp within its window.
func (s *Bolt) Recorded(_ context.Context, key Digest, fp Fingerprint, now time.Time) (Answer, bool, error) {
	var a Answer
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		cur, err := getRecord(tx, key)
		if err != nil {
			return err
		}
		a, ok = recorded(cur, fp, now)
		return nil
	})
	if err != nil {
		return Answer{}, false, fmt.Errorf("idempotency recorded: %w", err)
	}
	return a, ok, nil
}

// Release frees the key for a retry with the same payload.
func (s *Bolt) Release(_ context.Context, key Digest, fp Fingerprint) error {
	if err := s.update(key, func(cur *record) (*record, error) { return release(cur, fp) }); err != nil {
		return fmt.Errorf("idempotency release: %w", err)
	}
	return nil
}

// Cleanup deletes up to limit expired keys in one transaction, reading only
// the expiry index up to now. It is never refused for low disk space:
// deleting is how space comes back.
func (s *Bolt) Cleanup(_ context.Context, now time.Time, limit int) (int, error) {
	n := 0
	until := binary.BigEndian.AppendUint64(nil, uint64(max(now.UnixNano(), 0))) //nolint:gosec // G115: clamped to >= 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		n = 0
		keys, exp := tx.Bucket(keysBucket), tx.Bucket(expiryBucket)
		c := exp.Cursor()
		for k, _ := c.First(); k != nil && n < limit; k, _ = c.First() {
			if len(k) != 8+len(Digest{}) {
				return errors.New("malformed expiry entry")
			}
			if bytes.Compare(k[:8], until) > 0 {
				break
			}
			var d Digest
			copy(d[:], k[8:])
			cur, err := getRecord(tx, d)
			if err != nil {
				return err
			}
			// Only a record whose window this entry ends goes.
			if cur != nil && !now.Before(cur.ExpiresAt) {
				if err := keys.Delete(d[:]); err != nil {
					return err
				}
			}
			if err := exp.Delete(k); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("idempotency cleanup: %w", err)
	}
	return n, nil
}
