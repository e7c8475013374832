// The dead letters of the embedded spool: records delivery gave up on, kept
// in their own bucket until an operator replays them (routeapi spool).

package spool

import (
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Bury moves records to the dead letters.
func (s *Bolt) Bury(_ context.Context, recs []Record, reason string) error {
	moved := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		moved = 0
		p, d := tx.Bucket(pendingBucket), tx.Bucket(deadBucket)
		for _, r := range recs {
			if r.Seq != 0 && p.Get(key(r.Seq)) != nil {
				if err := p.Delete(key(r.Seq)); err != nil {
					return err
				}
				moved++
			}
			r.LastError = reason
			if err := appendRecord(d, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("spool bury: %w", err)
	}
	s.mu.Lock()
	s.depth -= moved
	s.dead += len(recs)
	s.mu.Unlock()
	return nil
}

// Replay moves every dead letter back to the waiting events, due at now.
func (s *Bolt) Replay(_ context.Context, now time.Time) (int, error) {
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		n = 0
		p, d := tx.Bucket(pendingBucket), tx.Bucket(deadBucket)
		c := d.Cursor()
		for k, v := c.First(); k != nil; k, v = c.First() {
			r, err := decode(k, v)
			if err != nil {
				return fmt.Errorf("dead letter %x: %w", k, err)
			}
			r.Attempts, r.NextAt, r.LastError = 0, now, ""
			if err := appendRecord(p, r); err != nil {
				return err
			}
			if err := d.Delete(k); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("spool replay: %w", err)
	}
	s.mu.Lock()
	s.depth += n
	s.dead -= n
	s.mu.Unlock()
	return n, nil
}

// DeadLetters lists up to max dead letters, oldest first.
func (s *Bolt) DeadLetters(_ context.Context, max int) ([]Record, error) {
	var out []Record
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(deadBucket).Cursor()
		for k, v := c.First(); k != nil && len(out) < max; k, v = c.Next() {
			r, err := decode(k, v)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("spool dead letters: %w", err)
	}
	return out, nil
}
