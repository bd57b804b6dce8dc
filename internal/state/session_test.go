package state

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSessions(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	s := NewSessions()
	s.now = func() time.Time { return now }
	s.max = 3

	a, exp := s.Create()
	if len(a) != 64 || !exp.Equal(now.Add(7*24*time.Hour)) {
		t.Fatalf("Create = %q, %v; want 64 hex digits expiring in 7 days", a, exp)
	}
	if !s.Valid(a) || s.Valid("") || s.Valid(a[:63]) || s.Valid("x"+a[1:]) {
		t.Fatal("Valid accepts only the id itself")
	}
	now = now.Add(time.Hour)
	b, _ := s.Create()
	c, _ := s.Create()
	d, _ := s.Create() // over the cap: a, the oldest, goes
	if s.Valid(a) || !s.Valid(b) || !s.Valid(c) || !s.Valid(d) || s.Len() != 3 {
		t.Fatalf("after 4 logins with a cap of 3: a %v b %v c %v d %v len %d; want a dropped", s.Valid(a), s.Valid(b), s.Valid(c), s.Valid(d), s.Len())
	}
	s.End(b)
	if s.Valid(b) {
		t.Error("ended session still valid")
	}
	now = now.Add(7 * 24 * time.Hour)
	if s.Valid(c) {
		t.Error("session valid after its lifetime")
	}
	e, _ := s.Create()
	s.EndAll()
	if s.Valid(e) || s.Valid(d) || s.Len() != 0 {
		t.Error("EndAll left a session")
	}
}

func TestSessionsSurviveRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "sessions.json")
	s := OpenSessions(path)
	a, _ := s.Create()
	b, _ := s.Create()
	s.End(b)
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("session file: %v, %v; want mode 0600", fi, err)
	}
	if data, _ := os.ReadFile(path); strings.Contains(string(data), a) {
		t.Fatal("the session file holds a session id, not only its hash")
	}
	again := OpenSessions(path)
	if !again.Valid(a) || again.Valid(b) || again.Len() != 1 {
		t.Errorf("after reopening: a %v, b %v, %d sessions; want only a", again.Valid(a), again.Valid(b), again.Len())
	}
	os.WriteFile(path, []byte("not json"), 0o600)
	if s := OpenSessions(path); s.Len() != 0 {
		t.Errorf("a corrupt file gave %d sessions, want none", s.Len())
	}
}
