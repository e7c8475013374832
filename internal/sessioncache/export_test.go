package sessioncache

// Len is the number of entries held (expired ones included until evicted),
// for the tests of package sessioncache_test.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
