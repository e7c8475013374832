// Package fakedisk is a settable amount of free disk space for tests of the
// free-space reserve (diskspace, spool.WithFreeSpace): the test fills or
// frees the "disk" by setting a number, safely while the code under test
// reads it from other goroutines.
package fakedisk

import "sync"

// Disk is the free space of a pretend file system. Use New; a Disk must not
// be copied.
type Disk struct {
	mu   sync.Mutex
	free uint64
}

// New returns a Disk with free bytes free.
func New(free uint64) *Disk { return &Disk{free: free} }

// Free is the free space in bytes; it never fails. Its method value (d.Free)
// fits spool.WithFreeSpace and diskspace.New.
func (d *Disk) Free() (uint64, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.free, nil
}

// Set makes free bytes free.
func (d *Disk) Set(free uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.free = free
}
