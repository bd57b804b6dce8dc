//go:build unix

package lock

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// plantings make the pid file at path something that must not be read and
// return the reason Probe gives.
var plantings = []struct {
	name   string
	plant  func(t *testing.T, path string)
	reason string
}{
	{"fifo", func(t *testing.T, path string) {
		if err := syscall.Mkfifo(path, 0o644); err != nil {
			t.Fatal(err)
		}
	}, "is not a regular file (named pipe)"},
	{"symlink to /dev/zero", func(t *testing.T, path string) {
		if err := os.Symlink("/dev/zero", path); err != nil {
			t.Fatal(err)
		}
	}, "is a symbolic link"},
	{"sparse 1 TiB", func(t *testing.T, path string) {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := f.Truncate(1 << 40); err != nil {
			t.Fatal(err)
		}
	}, "is larger than allowed (1099511627776 bytes, at most 64)"},
	{"symlink out of the workspace", func(t *testing.T, path string) {
		// The target names a live process: read through the link, it would
		// be taken for the holder.
		target := filepath.Join(t.TempDir(), "pid")
		if err := os.WriteFile(target, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, path); err != nil {
			t.Fatal(err)
		}
	}, "is a symbolic link"},
}

// bounded runs f and fails the test if it has not returned within 20 s: a
// read that blocks on a FIFO never returns.
func bounded(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not return: blocked on a planted pid file", what)
	}
}

// TestProbeRefusesUntrustedPidFile plants a pid file that must not be read,
// beside a free lock and beside one a child holds: Probe returns at once,
// takes the holder from the kernel's lock table only, and says why the pid
// file was refused.
func TestProbeRefusesUntrustedPidFile(t *testing.T) {
	t.Parallel()
	for _, p := range plantings {
		for _, held := range []bool{false, true} {
			name := p.name + "/free"
			if held {
				name = p.name + "/held"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				root := t.TempDir()
				mustAcquire(t, root)()
				want := State{Path: Path(root), PidFileRefused: p.reason}
				if held {
					h := startHolder(t, root)
					want.Held, want.PID = true, h.pid()
				}
				if err := os.Remove(PidPath(root)); err != nil && !errors.Is(err, os.ErrNotExist) {
					t.Fatal(err)
				}
				p.plant(t, PidPath(root))
				var got State
				var err error
				bounded(t, "Probe", func() { got, err = Probe(root) })
				if err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Errorf("Probe = %+v, want %+v", got, want)
				}
				if held {
					bounded(t, "Acquire", func() { _, err = Acquire(root) })
					assertHeldBy(t, err, want.PID, Path(root))
				}
			})
		}
	}
}

// TestAcquireReplacesUntrustedPidFile plants a pid file that must not be
// read next to a free lock: Acquire returns at once, holding the lock, and
// records itself in a regular pid file in place of the planted one.
func TestAcquireReplacesUntrustedPidFile(t *testing.T) {
	t.Parallel()
	for _, p := range plantings {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			if err := os.MkdirAll(StateDir(root), 0o755); err != nil {
				t.Fatal(err)
			}
			p.plant(t, PidPath(root))
			log, logs := testLogger()
			var release func()
			var err error
			bounded(t, "acquire", func() { release, err = acquire(StateDir(root), log) })
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(release)
			if got, want := pidFileContent(t, root), strconv.Itoa(os.Getpid())+"\n"; got != want {
				t.Errorf("pid file = %q, want %q", got, want)
			}
			if fi, err := os.Lstat(PidPath(root)); err != nil || !fi.Mode().IsRegular() {
				t.Errorf("pid file after Acquire: %v, %v; want a regular file", fi, err)
			}
			if out := logs.String(); !strings.Contains(out, "unreadable holder pid file") {
				t.Errorf("no warning about the refused pid file; log:\n%s", out)
			}
			bounded(t, "release", release)
			if _, err := os.Lstat(PidPath(root)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("pid file after release: %v, want removed", err)
			}
		})
	}
}

// TestAcquireRefusesSymlinkedLockFile plants the lock file as a symlink:
// Acquire refuses it rather than create or lock the file it points to.
func TestAcquireRefusesSymlinkedLockFile(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	if err := os.MkdirAll(StateDir(root), 0o755); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "elsewhere")
	if err := os.Symlink(target, Path(root)); err != nil {
		t.Fatal(err)
	}
	release, err := Acquire(root)
	if err == nil {
		release()
		t.Fatal("Acquire took a symlinked lock file")
	}
	if want := "workspace lock " + Path(root) + ": is a symbolic link; remove it and start again"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	if _, err := os.Lstat(target); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the symlink's target was created: %v", err)
	}
}

// BenchmarkProbePidFile measures Probe of a free lock whose pid file is a
// regular file naming this process, or a FIFO, which Probe refuses without
// waiting for a writer.
func BenchmarkProbePidFile(b *testing.B) {
	for _, fifo := range []bool{false, true} {
		name := "regular"
		if fifo {
			name = "fifo"
		}
		b.Run(name, func(b *testing.B) {
			root := b.TempDir()
			release, err := Acquire(root)
			if err != nil {
				b.Fatal(err)
			}
			release()
			if fifo {
				err = syscall.Mkfifo(PidPath(root), 0o644)
			} else {
				err = os.WriteFile(PidPath(root), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
			}
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := Probe(root); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
