package registry

import "sync"

// seenSet remembers keys, up to max of them: once full it starts afresh,
// so a directory full of distinct bad files cannot grow it without bound.
type seenSet struct {
	mu   sync.Mutex
	max  int
	keys map[string]struct{}
}

func newSeenSet(max int) *seenSet { return &seenSet{max: max, keys: make(map[string]struct{})} }

// first reports whether key is new, and remembers it.
func (s *seenSet) first(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[key]; ok {
		return false
	}
	if len(s.keys) >= s.max {
		clear(s.keys)
	}
	s.keys[key] = struct{}{}
	return true
}
