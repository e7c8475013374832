package spool

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/routeapi/routeapi/internal/diskspace"
)

var (
	pendingBucket = []byte("pending")
	deadBucket    = []byte("dead")
)

// ErrLocked is returned by OpenBolt when another process holds the spool file.
var ErrLocked = errors.New("spool file is in use by another process (a running routeapi?)")

// Bolt is the embedded spool: one bbolt file, used by one process at a time.
type Bolt struct {
	db      *bolt.DB
	max     int
	reserve *diskspace.Reserve
	// pageSize is the file's page size, read once at open: db.Info reads
	// the mmap unlocked and faults while a commit remaps a growing file.
	pageSize int

	mu    sync.Mutex
	depth int
	dead  int
}

// BoltFile is the spool's file name inside its directory.
const BoltFile = "spool.db"

// BoltOption configures OpenBolt.
type BoltOption func(*boltOptions)

type boltOptions struct {
	minFree uint64
	free    diskspace.FreeFunc
}

// WithMinFree keeps bytes of free disk space in reserve: Put (and the other
// stores that share the file through Reserve) are refused with an error
// wrapping diskspace.ErrLow while a write would leave less, so that claims,
// acks and cleanup, which are writes too, always have room (see
// internal/diskspace). 0 turns the reserve off.
func WithMinFree(bytes uint64) BoltOption { return func(o *boltOptions) { o.minFree = bytes } }

// WithFreeSpace measures free space with f instead of statfs(2) on the
// spool's directory plus the free pages inside the file (for tests).
func WithFreeSpace(f diskspace.FreeFunc) BoltOption { return func(o *boltOptions) { o.free = f } }

// OpenBolt opens (or creates) the spool in dir, holding at most max waiting
// events (0: no limit). It waits at most lockWait for another process's lock.
func OpenBolt(dir string, max int, lockWait time.Duration, opts ...BoltOption) (*Bolt, error) {
	var o boltOptions
	for _, opt := range opts {
		opt(&o)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open spool: %w", err)
	}
	path := filepath.Join(dir, BoltFile)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockWait})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("open spool %s: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open spool %s: %w", path, err)
	}
	s := &Bolt{db: db, max: max, pageSize: db.Info().PageSize}
	s.reserve = diskspace.New(o.minFree, boltFreeSpace(dir, db, o.free))
	if err := s.createBuckets(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open spool %s: %w", path, err)
	}
	return s, nil
}

// boltFreeSpace is free, or when it is nil statfs(2) on dir plus the free
// pages inside db's file.
func boltFreeSpace(dir string, db *bolt.DB, free diskspace.FreeFunc) diskspace.FreeFunc {
	if free != nil {
		return free
	}
	// bbolt never shrinks its file: pages freed by acks and deletes stay
	// in it, on its freelist, and new commits reuse them. They are space
	// a write can use without growing the file, so they count as free.
	// The file's tail past its last page is sparse (bbolt grows the file
	// with ftruncate) and takes no space until written, so statfs
	// already counts it as free.
	return diskspace.Statfs(dir, func() uint64 {
		if n := db.Stats().FreeAlloc; n > 0 {
			return uint64(n)
		}
		return 0
	})
}

// createBuckets makes the pending and dead buckets if the file has none,
// and counts what they hold.
func (s *Bolt) createBuckets() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		p, err := tx.CreateBucketIfNotExists(pendingBucket)
		if err != nil {
			return err
		}
		d, err := tx.CreateBucketIfNotExists(deadBucket)
		if err != nil {
			return err
		}
		s.depth, s.dead = p.Stats().KeyN, d.Stats().KeyN
		return nil
	})
}

// DB is the spool's bbolt database, for stores that share its file (the
// idempotency store); they use their own buckets.
func (s *Bolt) DB() *bolt.DB { return s.db }

// Reserve is the free-space reserve guarding new writes to the file.
func (s *Bolt) Reserve() *diskspace.Reserve { return s.reserve }

// WriteCost estimates the bytes a bbolt commit adding values of n bytes in
// total writes to new pages of pageSize: the values, and per value a leaf
// page and its branch pages, plus the freelist and the meta page.
func WriteCost(pageSize, n, values int) uint64 {
	return uint64(n + values*3*pageSize + 2*pageSize) //nolint:gosec // G115: sizes are positive
}

// Put stores recs, synced to disk before it returns (concurrent Puts share
// one sync through bbolt's Batch). It is refused (an error wrapping
// diskspace.ErrLow) while free disk space is below the reserve.
func (s *Bolt) Put(_ context.Context, recs []Record) error {
	size := 0
	for _, r := range recs {
		size += len(r.Event) + 256 // the event and the record's other fields
	}
	release, err := s.reserve.Acquire(WriteCost(s.pageSize, size, len(recs)))
	if err != nil {
		return fmt.Errorf("spool put: %w", err)
	}
	defer release()
	s.mu.Lock()
	if s.max > 0 && s.depth+len(recs) > s.max {
		s.mu.Unlock()
		return ErrFull
	}
	s.depth += len(recs) // reserve the room
	s.mu.Unlock()
	err = s.db.Batch(func(tx *bolt.Tx) error {
		b := tx.Bucket(pendingBucket)
		for _, r := range recs {
			if err := appendRecord(b, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.mu.Lock()
		s.depth -= len(recs)
		s.mu.Unlock()
		return fmt.Errorf("spool put: %w", err)
	}
	return nil
}

// Claim leases up to max due records.
func (s *Bolt) Claim(_ context.Context, now time.Time, max int, lease time.Duration) ([]Record, error) {
	var out []Record
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(pendingBucket)
		c := b.Cursor()
		due := uint64(now.UnixNano())
		for k, v := c.First(); k != nil && len(out) < max; k, v = c.Next() {
			if len(v) < 8 || binary.BigEndian.Uint64(v) > due {
				continue
			}
			r, err := decode(k, v)
			if err != nil {
				return fmt.Errorf("record %x: %w", k, err)
			}
			out = append(out, r)
		}
		for _, r := range out {
			leased := r
			leased.NextAt = now.Add(lease)
			if err := putRecord(b, r.Seq, leased); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("spool claim: %w", err)
	}
	return out, nil
}

// Ack removes delivered records.
func (s *Bolt) Ack(_ context.Context, seqs []uint64) error {
	removed := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		removed = 0
		b := tx.Bucket(pendingBucket)
		for _, seq := range seqs {
			if b.Get(key(seq)) == nil {
				continue
			}
			if err := b.Delete(key(seq)); err != nil {
				return err
			}
			removed++
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("spool ack: %w", err)
	}
	s.mu.Lock()
	s.depth -= removed
	s.mu.Unlock()
	return nil
}

// Retry stores the records' new state.
func (s *Bolt) Retry(_ context.Context, recs []Record) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(pendingBucket)
		for _, r := range recs {
			if err := putRecord(b, r.Seq, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("spool retry: %w", err)
	}
	return nil
}

// Stats reports depth, oldest and dead letters.
func (s *Bolt) Stats(_ context.Context) (Stats, error) {
	var st Stats
	err := s.db.View(func(tx *bolt.Tx) error {
		k, v := tx.Bucket(pendingBucket).Cursor().First()
		if k == nil {
			return nil
		}
		r, err := decode(k, v)
		if err != nil {
			return err
		}
		st.Oldest = r.EnqueuedAt
		return nil
	})
	if err != nil {
		return Stats{}, fmt.Errorf("spool stats: %w", err)
	}
	s.mu.Lock()
	st.Depth, st.Dead = s.depth, s.dead
	s.mu.Unlock()
	disk, err := s.reserve.Check()
	if err != nil {
		return Stats{}, fmt.Errorf("spool stats: %w", err)
	}
	st.Disk = disk
	return st, nil
}

// Close closes the file.
func (s *Bolt) Close() error { return s.db.Close() }
