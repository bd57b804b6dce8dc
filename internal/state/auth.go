package state

import (
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// recheckEvery bounds how often Auth looks at the token file.
const recheckEvery = time.Second

// Auth is a running server's access token and its sessions. A token read
// from the token file follows that file: when `boneyard token rotate`
// replaces it, the new token applies and every session ends. A token from
// BONEYARD_TOKEN is fixed for the server's life.
type Auth struct {
	Sessions *Sessions

	path string // "" when the token came from the environment

	mu      sync.Mutex
	token   string
	info    fs.FileInfo // the token file as last read
	checked time.Time
}

// SessionsPath is where a server in dir keeps its sessions.
func SessionsPath(dir string) string { return filepath.Join(dir, "sessions.json") }

// NewAuth returns the Auth of a server using token, its sessions kept in
// dir (so they survive a restart; "" keeps them in memory). When fromFile is
// set the token is the one in dir's token file, which Token then follows.
func NewAuth(dir, token string, fromFile bool) *Auth {
	a := &Auth{Sessions: NewSessions(), token: token}
	if dir != "" {
		a.Sessions = OpenSessions(SessionsPath(dir))
	}
	if fromFile {
		a.path = TokenPath(dir)
		a.info, _ = os.Stat(a.path)
		a.checked = time.Now()
	}
	return a
}

// FromFile reports whether the token follows the token file.
func (a *Auth) FromFile() bool { return a.path != "" }

// Token returns the current token, re-reading the token file (at most once
// a second) when it has been replaced.
func (a *Auth) Token() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.path == "" || time.Since(a.checked) < recheckEvery {
		return a.token
	}
	a.checked = time.Now()
	info, err := os.Stat(a.path)
	if err != nil || (a.info != nil && os.SameFile(info, a.info) && info.ModTime().Equal(a.info.ModTime())) {
		return a.token
	}
	t, rinfo, err := readToken(a.path)
	if err != nil {
		slog.Warn("token file changed but cannot be read; keeping the current token", "err", err)
		return a.token
	}
	a.info = rinfo
	if t != a.token {
		a.token = t
		a.Sessions.EndAll()
		slog.Info("token rotated: every session ended; open the URL 'boneyard url' prints")
	}
	return a.token
}
