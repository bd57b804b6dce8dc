//go:build unix

package hubtest

import (
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Untrusted is a kind of file that someone may plant where a program
// expects a small regular file (a registry entry, agent.id, hub.lock.pid),
// and that a safe reader refuses without blocking or reading it whole.
type Untrusted struct {
	Name string
	// Plant creates the file at path. A symlink out of the directory
	// points to a file holding content, a valid file that reading through
	// the link would take for real.
	Plant func(t testing.TB, path, content string)
	// Reason is how the refusal is described by a reader capped at max
	// bytes.
	Reason func(max int) string
}

// UntrustedFiles are the files every safe reader is tested with: a FIFO
// (an open without O_NONBLOCK waits for a writer forever), a symlink to
// /dev/zero (endless), a sparse 1 TiB file, a symlink to a file elsewhere
// and a directory.
var UntrustedFiles = []Untrusted{
	{"fifo", func(t testing.TB, path, _ string) {
		if err := syscall.Mkfifo(path, 0o644); err != nil {
			t.Fatal(err)
		}
	}, func(int) string { return "is not a regular file (named pipe)" }},
	{"symlink to /dev/zero", func(t testing.TB, path, _ string) {
		if err := os.Symlink("/dev/zero", path); err != nil {
			t.Fatal(err)
		}
	}, func(int) string { return "is a symbolic link" }},
	{"sparse 1 TiB", func(t testing.TB, path, _ string) {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := f.Truncate(1 << 40); err != nil {
			t.Fatal(err)
		}
	}, func(max int) string {
		return "is larger than allowed (1099511627776 bytes, at most " + strconv.Itoa(max) + ")"
	}},
	{"symlink out of the directory", func(t testing.TB, path, content string) {
		target := filepath.Join(t.TempDir(), "target")
		if err := os.WriteFile(target, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, path); err != nil {
			t.Fatal(err)
		}
	}, func(int) string { return "is a symbolic link" }},
	{"directory", func(t testing.TB, path, _ string) {
		if err := os.Mkdir(path, 0o755); err != nil {
			t.Fatal(err)
		}
	}, func(int) string { return "is not a regular file (directory)" }},
}

// Bounded runs f and fails the test if it has not returned within 20 s: a
// read that blocks on a FIFO never returns (f's goroutine then stays
// blocked, which a failed test may leave behind).
func Bounded(t testing.TB, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not return: blocked on a planted file", what)
	}
}
