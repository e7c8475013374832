// Package diskspace keeps a reserve of free disk space for the writes that
// drain a store (claims, deletes, cleanup): new writes are refused while the
// space left would fall below the reserve.
//
// Why: an embedded store (the bbolt spool) that fills its file system can no
// longer claim or delete either, since every bbolt commit writes pages
// (copy-on-write), so it never drains. With a reserve, new events are
// refused (the caller gets 503 and retries) while the events already
// acknowledged still have room to be claimed and removed.
package diskspace

import (
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"
)

// ErrLow is returned by Acquire while a write would leave less free space
// than the reserve.
var ErrLow = errors.New("free disk space is below the reserve")

// FreeFunc reports the bytes that new writes can still use.
type FreeFunc func() (uint64, error)

// Statfs returns a FreeFunc reporting the space available to an
// unprivileged user on the file system holding dir (statfs(2) f_bavail ×
// f_bsize), plus whatever extra reports (e.g. pages a database file holds
// free for reuse; nil for none).
func Statfs(dir string, extra func() uint64) FreeFunc {
	return func() (uint64, error) {
		var st unix.Statfs_t
		if err := unix.Statfs(dir, &st); err != nil {
			return 0, fmt.Errorf("statfs %s: %w", dir, err)
		}
		free := st.Bavail * uint64(st.Bsize) //nolint:gosec // G115: Bsize is a positive block size
		if extra != nil {
			free += extra()
		}
		return free, nil
	}
}

// Reserve refuses writes that would eat into a reserve of free space. It
// counts the writes in progress, so that concurrent writers that each see
// enough room cannot together pass the reserve. Safe for concurrent use.
type Reserve struct {
	min  uint64
	free FreeFunc

	mu      sync.Mutex
	pending uint64
	// refused is the size of the last write refused, 0 once one is admitted.
	refused uint64
	last    Status
}

// Status is the reserve's state as last measured.
type Status struct {
	// Free is the free space in bytes when last measured.
	Free uint64
	// Min is the reserve in bytes.
	Min uint64
	// Low: new writes are refused: Free, less the writes in progress, has
	// no room above Min for a write the size of the last one refused.
	Low bool
}

// New returns a reserve of min bytes measured by free. min 0 turns it off
// (Acquire always succeeds).
func New(min uint64, free FreeFunc) *Reserve {
	return &Reserve{min: min, free: free}
}

// Acquire admits a write of about n bytes, or returns ErrLow (wrapped with
// the figures) when free space minus the writes in progress minus n would be
// below the reserve. Call release once the write is done (or failed).
func (r *Reserve) Acquire(n uint64) (release func(), err error) {
	if r == nil || r.min == 0 {
		return func() {}, nil
	}
	free, err := r.free()
	if err != nil {
		return nil, fmt.Errorf("measure free space: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	need := r.min + r.pending + n
	low := free < need
	r.last = Status{Free: free, Min: r.min, Low: low}
	if low {
		r.refused = n
		return nil, fmt.Errorf("%w: %d bytes free, %d in use by writes in progress, %d reserved for claims and deletes", ErrLow, free, r.pending, r.min)
	}
	r.pending += n
	r.refused = 0
	var once sync.Once
	return func() {
		once.Do(func() {
			r.mu.Lock()
			r.pending -= n
			r.mu.Unlock()
		})
	}, nil
}

// Check measures free space now and reports the state (for readiness and
// metrics): Low while a write the size of the last one refused would be
// refused now (while none was, while the free space is at or below the
// reserve). It admits nothing.
func (r *Reserve) Check() (Status, error) {
	if r == nil || r.min == 0 {
		return Status{}, nil
	}
	free, err := r.free()
	if err != nil {
		return Status{}, fmt.Errorf("measure free space: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.last = Status{Free: free, Min: r.min, Low: free < r.min+r.pending+max(r.refused, 1)}
	return r.last, nil
}
