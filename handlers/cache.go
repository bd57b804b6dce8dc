package handlers

import "sync"

// cached shares what is built from the latest snapshot (fragments, pages,
// updates) between the requests and streams that need the same thing; a
// newer snapshot empties it. Each value is built once, errors included.
type cached[K comparable, V any] struct {
	mu    sync.Mutex
	seq   uint64
	items map[K]*cacheItem[V]
}

type cacheItem[V any] struct {
	once sync.Once
	val  V
	err  error
}

// maxCached bounds each cache; further distinct keys are built per use.
const maxCached = 128

// get returns the value cached for key at seq, building it once. A value
// of an older snapshot than the cached ones is built and not kept.
func (c *cached[K, V]) get(seq uint64, key K, build func() (V, error)) (V, error) {
	c.mu.Lock()
	if seq > c.seq || c.items == nil {
		c.seq, c.items = seq, map[K]*cacheItem[V]{}
	}
	it := c.items[key]
	if it == nil && (seq != c.seq || len(c.items) >= maxCached) {
		c.mu.Unlock()
		return build()
	}
	if it == nil {
		it = &cacheItem[V]{}
		c.items[key] = it
	}
	c.mu.Unlock()
	it.once.Do(func() { it.val, it.err = build() })
	return it.val, it.err
}
