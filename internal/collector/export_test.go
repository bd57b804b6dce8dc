package collector

// Collections returns how many collections have run since New.
func (c *Collector) Collections() uint64 { return c.collections.Load() }

// Subscribers returns the number of active subscriptions.
func (c *Collector) Subscribers() int {
	c.subsMu.Lock()
	defer c.subsMu.Unlock()
	return len(c.subs)
}
