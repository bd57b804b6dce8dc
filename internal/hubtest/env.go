package hubtest

import (
	"net"
	"testing"
)

// SetHome points HOME at a fresh temporary directory for the test, clears
// the variables that would move bones's state elsewhere, and returns it.
func SetHome(t testing.TB) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home)
	t.Setenv("BONES_DIR", "")
	t.Setenv("XDG_DATA_HOME", "")
	return home
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
