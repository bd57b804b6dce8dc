package state

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"boneyard/internal/atomicfile"
	"boneyard/internal/safefile"
)

// Session bounds: a session lives SessionLifetime from its login; at most
// MaxSessions live at once (the oldest goes first), so a flood of logins
// cannot grow memory.
const (
	SessionLifetime = 7 * 24 * time.Hour
	MaxSessions     = 1024
)

// Sessions are the logged-in browsers of a server. The cookie carries a
// random session id, never the token; only a hash of each id is kept, so a
// map lookup's timing says nothing about a guessed id's prefix, and the
// session file (when there is one) holds nothing a cookie could be made
// from.
type Sessions struct {
	mu       sync.Mutex
	lifetime time.Duration
	max      int
	now      func() time.Time
	byHash   map[[32]byte]time.Time // hash of id -> expiry
	path     string                 // the session file; "" keeps sessions in memory only
	log      *slog.Logger
}

// NewSessions returns an empty in-memory session table with the default
// bounds.
func NewSessions() *Sessions {
	return &Sessions{lifetime: SessionLifetime, max: MaxSessions, now: time.Now, byHash: map[[32]byte]time.Time{}, log: slog.Default()}
}

// maxSessionFile bounds the session file read: MaxSessions lines of a hash
// and a time.
const maxSessionFile = MaxSessions * 128

// OpenSessions returns the session table kept in the file at path (mode
// 0600), so that a restarted boneyard keeps its users logged in. A missing,
// unreadable or corrupt file starts an empty table (with a warning when it
// exists); expired sessions are dropped.
func OpenSessions(path string) *Sessions {
	s := NewSessions()
	s.path = path
	data, _, err := safefile.ReadFile(path, maxSessionFile)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			s.log.Warn("sessions: starting with none", "err", err)
		}
		return s
	}
	var saved []savedSession
	if err := json.Unmarshal(data, &saved); err != nil {
		s.log.Warn("sessions: starting with none", "path", path, "err", err)
		return s
	}
	now := s.now()
	for _, ss := range saved {
		h, err := hex.DecodeString(ss.Hash)
		if err != nil || len(h) != 32 || !now.Before(ss.Expires) || len(s.byHash) >= s.max {
			continue
		}
		s.byHash[[32]byte(h)] = ss.Expires
	}
	return s
}

// savedSession is a session as the file keeps it.
type savedSession struct {
	Hash    string    `json:"hash"`
	Expires time.Time `json:"expires"`
}

// saveLocked writes the table to its file, if it has one.
func (s *Sessions) saveLocked() {
	if s.path == "" {
		return
	}
	saved := make([]savedSession, 0, len(s.byHash))
	for h, exp := range s.byHash {
		saved = append(saved, savedSession{Hash: hex.EncodeToString(h[:]), Expires: exp})
	}
	data, err := json.Marshal(saved)
	if err == nil {
		err = os.MkdirAll(filepath.Dir(s.path), 0o700)
	}
	if err == nil {
		err = atomicfile.Replace(s.path, data, 0o600)
	}
	if err != nil {
		s.log.Warn("sessions: not saved; logins last until boneyard stops", "path", s.path, "err", err)
	}
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
	s.saveLocked()
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
	s.saveLocked()
	s.mu.Unlock()
}

// EndAll ends every session, as a token rotation does.
func (s *Sessions) EndAll() {
	s.mu.Lock()
	clear(s.byHash)
	s.saveLocked()
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
