package hubtest

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// SetHome points HOME at a fresh temporary directory for the test, clears
// the variables that would move bones's state elsewhere, and returns it.
// Like every t.Setenv it rules out t.Parallel; a test that can name its
// directories explicitly should, and pass HomeEnv to its children.
func SetHome(t testing.TB) string {
	t.Helper()
	home := t.TempDir()
	for _, kv := range HomeEnv(home) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	return home
}

// HomeEnv returns the environment, as Options.Env takes it, that gives a
// child home as its home directory, and none of the variables that would
// move bones's state elsewhere: what SetHome does for the test process.
func HomeEnv(home string) []string {
	return []string{"HOME=" + home, "USERPROFILE=" + home, "BONES_DIR=", "XDG_DATA_HOME="}
}

// Workspace creates the workspace directory parent/name and returns it.
// With marked, it holds the marker `bones up` leaves, .bones/agent.id,
// reading "agent-<name>".
func Workspace(t testing.TB, parent, name string, marked bool) string {
	t.Helper()
	dir := filepath.Join(parent, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if marked {
		if err := os.MkdirAll(filepath.Join(dir, ".bones"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, ".bones", "agent.id"), []byte("agent-"+name+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// ClosedURL returns a loopback URL on which nothing listens: a stopped
// hub's.
func ClosedURL(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()
	return url
}

// LockedBuffer is a bytes.Buffer safe for concurrent writers and readers,
// e.g. the destination of a logger that the code under test writes to
// from several goroutines. The zero value is empty and ready to use.
type LockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *LockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
