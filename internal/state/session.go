package state

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"
)

// Session bounds: a session lives SessionLifetime from its login; at most
// MaxSessions live at once (the oldest goes first), so a flood of logins
// cannot grow memory.
const (
	SessionLifetime = 7 * 24 * time.Hour
	MaxSessions     = 1024
)

// Sessions are the logged-in browsers of one server. The cookie carries a
// random session id, never the token; the server keeps only a hash of each
// id, so a map lookup's timing says nothing about a guessed id's prefix.
type Sessions struct {
	mu       sync.Mutex
	lifetime time.Duration
	max      int
	now      func() time.Time
	byHash   map[[32]byte]time.Time // hash of id -> expiry
}

// NewSessions returns an empty session table with the default bounds.
func NewSessions() *Sessions {
	return &Sessions{lifetime: SessionLifetime, max: MaxSessions, now: time.Now, byHash: map[[32]byte]time.Time{}}
}

// Create starts a session and returns its id and expiry.
func (s *Sessions) Create() (id string, expires time.Time) {
	buf := make([]byte, 32)
	rand.Read(buf) // never fails (crypto/rand panics instead)
	id = hex.EncodeToString(buf)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.dropExpiredLocked(now)
	for len(s.byHash) >= s.max {
		s.dropOldestLocked()
	}
	expires = now.Add(s.lifetime)
	s.byHash[sha256.Sum256([]byte(id))] = expires
	return id, expires
}

// Valid reports whether id names a live session.
func (s *Sessions) Valid(id string) bool {
	if id == "" {
		return false
	}
	h := sha256.Sum256([]byte(id))
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.byHash[h]
	if ok && !s.now().Before(exp) {
		delete(s.byHash, h)
		return false
	}
	return ok
}

// End ends one session (logout).
func (s *Sessions) End(id string) {
	s.mu.Lock()
	delete(s.byHash, sha256.Sum256([]byte(id)))
	s.mu.Unlock()
}

// EndAll ends every session, as a token rotation does.
func (s *Sessions) EndAll() {
	s.mu.Lock()
	clear(s.byHash)
	s.mu.Unlock()
}

// Len is the number of sessions held, expired ones not yet dropped
// included.
func (s *Sessions) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byHash)
}

func (s *Sessions) dropExpiredLocked(now time.Time) {
	for h, exp := range s.byHash {
		if !now.Before(exp) {
			delete(s.byHash, h)
		}
	}
}

func (s *Sessions) dropOldestLocked() {
	var oldest [32]byte
	var first time.Time
	for h, exp := range s.byHash {
		if first.IsZero() || exp.Before(first) {
			oldest, first = h, exp
		}
	}
	delete(s.byHash, oldest)
}
