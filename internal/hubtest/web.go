package hubtest

import (
	"sync"
	"testing"
)

// PIDSet is the set of the child pids a test binary started, safe for
// concurrent use. Tests that scan the host's hub processes keep only these,
// so that hubs run by anything else on the machine cannot change what they
// see.
type PIDSet struct {
	m sync.Map
}

// Add puts pid in the set until t ends: a pid may be reused afterwards.
func (s *PIDSet) Add(t testing.TB, pid int) {
	s.m.Store(pid, struct{}{})
	t.Cleanup(func() { s.m.Delete(pid) })
}

// Has reports whether pid is in the set.
func (s *PIDSet) Has(pid int) bool {
	_, ok := s.m.Load(pid)
	return ok
}
