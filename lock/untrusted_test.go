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

	"boneyard/internal/hubtest"
)

// livePid is what the target of a symlinked pid file holds: a live pid,
// which read through the link would be taken for the holder.
var livePid = strconv.Itoa(os.Getpid()) + "\n"

// TestProbeRefusesUntrustedPidFile plants a pid file that must not be read,
// beside a free lock and beside one a child holds: Probe returns at once,
// takes the holder from the kernel's lock table only, and says why the pid
// file was refused.
func TestProbeRefusesUntrustedPidFile(t *testing.T) {
	t.Parallel()
	for _, p := range hubtest.UntrustedFiles {
		for _, held := range []bool{false, true} {
			name := p.Name + "/free"
			if held {
				name = p.Name + "/held"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				root := t.TempDir()
				mustAcquire(t, root)()
				want := State{Path: Path(root), PidFileRefused: p.Reason(maxPidFileSize)}
				if held {
					h := startHolder(t, root)
					want.Held, want.PID = true, h.pid()
				}
				if err := os.Remove(PidPath(root)); err != nil && !errors.Is(err, os.ErrNotExist) {
					t.Fatal(err)
				}
				p.Plant(t, PidPath(root), livePid)
				var got State
				var err error
				hubtest.Bounded(t, "Probe", func() { got, err = Probe(root) })
				if err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Errorf("Probe = %+v, want %+v", got, want)
				}
				if held {
					hubtest.Bounded(t, "Acquire", func() { _, err = Acquire(root) })
					assertHeldBy(t, err, want.PID, Path(root))
				}
			})
		}
	}
}

// TestAcquireReplacesUntrustedPidFile plants a pid file that must not be
// read next to a free lock: Acquire returns at once, holding the lock, and
// records itself in a regular pid file in place of the planted one. A
// directory cannot be replaced: Acquire fails, naming the pid file, and
// leaves the lock free.
func TestAcquireReplacesUntrustedPidFile(t *testing.T) {
	t.Parallel()
	for _, p := range hubtest.UntrustedFiles {
		t.Run(p.Name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			if err := os.MkdirAll(StateDir(root), 0o755); err != nil {
				t.Fatal(err)
			}
			p.Plant(t, PidPath(root), livePid)
			log, logs := testLogger()
			var release func()
			var err error
			hubtest.Bounded(t, "acquire", func() { release, err = acquire(StateDir(root), log) })
			if p.Name == "directory" {
				if err == nil || !strings.Contains(err.Error(), "record holder in "+PidPath(root)) {
					t.Fatalf("Acquire with a directory as pid file: %v, want an error naming it", err)
				}
				if st, err := Probe(root); err != nil || st.Held {
					t.Fatalf("after the failed Acquire: %+v, %v; want the lock free", st, err)
				}
				return
			}
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
			hubtest.Bounded(t, "release", release)
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
