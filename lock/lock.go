// Package lock implements the bones workspace lock: an exclusive flock on
// <root>/.bones/hub.lock plus the hub.lock.pid holder file, and a read-only
// Probe that reports the holder without ever taking the lock.
//
// The flock is the only source of truth about who holds the lock; the pid
// file is a hint for humans and for platforms where the kernel cannot be
// asked who holds a lock. The file formats match the bones CLI, so bones and
// this package exclude each other on the same workspace.
package lock

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/gofrs/flock"

	"boneyard/internal/atomicfile"
	"boneyard/internal/safefile"
	"boneyard/procscan"
)

// FileName and PidFileName are the basenames of the lock and holder files.
const (
	FileName    = "hub.lock"
	PidFileName = "hub.lock.pid"
)

// EnvDir is the environment variable that relocates the state directory.
const EnvDir = "BONES_DIR"

// File modes match what bones creates, so either tool can reuse the other's
// files.
const (
	dirMode  fs.FileMode = 0o755
	fileMode fs.FileMode = 0o644
)

// ErrLockHeld is returned by Acquire when another live process holds the lock.
type ErrLockHeld struct {
	PID  int // holder pid, 0 when it could not be determined
	Path string
}

func (e *ErrLockHeld) Error() string {
	if e.PID > 0 {
		return fmt.Sprintf("workspace lock %s is held by pid %d: a hub is already running for this workspace; stop it first", e.Path, e.PID)
	}
	return fmt.Sprintf("workspace lock %s is held by another process: a hub is already running for this workspace; stop it first", e.Path)
}

// StateDir returns the workspace's bones state directory: <root>/.bones, or
// BONES_DIR when set (relative values are taken relative to root).
func StateDir(root string) string {
	if dir := os.Getenv(EnvDir); dir != "" {
		if filepath.IsAbs(dir) {
			return filepath.Clean(dir)
		}
		return filepath.Join(root, dir)
	}
	return filepath.Join(root, ".bones")
}

// Path returns the lock file path for the workspace at root.
func Path(root string) string { return filepath.Join(StateDir(root), FileName) }

// PidPath returns the holder pid file path for the workspace at root.
func PidPath(root string) string { return filepath.Join(StateDir(root), PidFileName) }

// Acquire takes the exclusive, non-blocking workspace lock and records the
// calling process in the pid file. When another process (or another Acquire
// in this process) holds it, the error is an *ErrLockHeld naming the holder.
// A pid file left behind by a crashed holder is replaced with a warning.
//
// The returned release func removes the pid file and drops the lock; calling
// it more than once is harmless.
func Acquire(root string) (release func(), err error) { return acquire(StateDir(root), slog.Default()) }

// acquire is Acquire for the state directory dir, logging to log.
func acquire(dir string, log *slog.Logger) (release func(), err error) {
	path := filepath.Join(dir, FileName)
	pidPath := filepath.Join(dir, PidFileName)
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return nil, fmt.Errorf("workspace lock: create state directory %s: %w", dir, err)
	}

	// A symlink planted as the lock file would have the lock taken on, or
	// created at, whatever it points to.
	fl := flock.New(path, flock.SetFlag(os.O_CREATE|os.O_RDWR|noFollow), flock.SetPermissions(fileMode))
	ok, err := fl.TryLock()
	if err != nil {
		if isSymlinkErr(err) {
			return nil, fmt.Errorf("workspace lock %s: is a symbolic link; remove it and start again", path)
		}
		return nil, fmt.Errorf("workspace lock %s: %w", path, err)
	}
	if !ok {
		return nil, &ErrLockHeld{PID: holderPID(path, pidPath), Path: path}
	}

	self := os.Getpid()
	warnStale(log, pidPath, self)
	removeTemps(log, pidPath)
	if err := writePid(pidPath, self); err != nil {
		unlock(log, fl)
		return nil, fmt.Errorf("workspace lock: record holder in %s (remove whatever is in its way and start again): %w", pidPath, err)
	}

	var once sync.Once
	return func() {
		once.Do(func() {
			// The pid file goes first: once the flock is dropped a new holder
			// may write its own pid file, which must survive.
			if pid, err := readPid(pidPath); err == nil && pid == self {
				if err := os.Remove(pidPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
					log.Warn("workspace lock: remove holder pid file", "path", pidPath, "err", err)
				}
			}
			unlock(log, fl)
		})
	}, nil
}

// unlock drops the flock and closes its file, logging a failure: callers are
// release paths with nobody to return an error to.
func unlock(log *slog.Logger, fl *flock.Flock) {
	if err := fl.Unlock(); err != nil {
		log.Warn("workspace lock: unlock", "path", fl.Path(), "err", err)
	}
}

// warnStale logs what a just-acquired lock found in the pid file. Holding the
// flock proves no other process holds it, so any other pid recorded there is
// stale: the holder crashed (the kernel dropped its flock) or the pid was
// reused by an unrelated process.
func warnStale(log *slog.Logger, pidPath string, self int) {
	pid, err := readPid(pidPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return
	case err != nil:
		log.Warn("workspace lock: replacing unreadable holder pid file", "path", pidPath, "err", err)
	case pid == self:
		return
	case procscan.Alive(pid):
		log.Warn("workspace lock: recovered stale lock; recorded holder is alive but does not hold the lock (pid reused)",
			"path", pidPath, "stale_pid", pid)
	default:
		log.Warn("workspace lock: recovered stale lock left by a process that is gone",
			"path", pidPath, "stale_pid", pid)
	}
}

// removeTemps deletes temporary pid files left by a holder that crashed
// mid-write. Only the lock holder writes the pid file, so while we hold the
// lock none of them can be in use.
func removeTemps(log *slog.Logger, pidPath string) {
	dir, prefix := filepath.Dir(pidPath), filepath.Base(pidPath)+atomicfile.Marker
	entries, err := os.ReadDir(dir)
	if err != nil {
		log.Warn("workspace lock: list state directory", "path", dir, "err", err)
		return
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		tmp := filepath.Join(dir, e.Name())
		if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
			log.Warn("workspace lock: remove leftover temporary file", "path", tmp, "err", err)
		}
	}
}

// maxPidFileSize bounds what is read of a pid file: a decimal pid and a
// newline.
const maxPidFileSize = 64

// readPid parses the pid file: a decimal pid, optionally followed by a
// newline. The file is untrusted (anything may sit in a workspace): a
// symlink, a FIFO or any other non-regular file, or one over
// maxPidFileSize bytes, is refused without blocking, with an error
// safefile.Reason describes.
func readPid(pidPath string) (int, error) {
	data, err := readShared(pidPath, maxPidFileSize)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("pid file %s: malformed content %q", pidPath, data)
	}
	return pid, nil
}

// livePidFromFile returns the pid recorded in the pid file when that process
// is alive, else 0, and why the file was refused ("" when it was not).
func livePidFromFile(pidPath string) (pid int, refused string) {
	pid, err := readPid(pidPath)
	if err != nil {
		return 0, safefile.Reason(err)
	}
	if !procscan.Alive(pid) {
		return 0, ""
	}
	return pid, ""
}

// writePid replaces the pid file atomically, so a reader never sees a torn
// or empty file and a crash leaves either the old or the new content.
func writePid(pidPath string, pid int) error {
	return atomicfile.Replace(pidPath, []byte(strconv.Itoa(pid)+"\n"), fileMode)
}

// State is what Probe observed about a workspace lock.
type State struct {
	Held bool   // some process holds the flock
	PID  int    // holder pid when known, else 0
	Path string // lock file path
	// PidFileRefused says why the holder pid file was not read, for a
	// page: "is a symbolic link", "is not a regular file (named pipe)",
	// "is larger than allowed (...)"; "" when it was read or is missing.
	PidFileRefused string
}

// Probe reports whether the lock at root is held and by whom, without ever
// taking it: it may run at any rate next to a concurrent Acquire without
// making that Acquire fail. A missing lock file or state directory means
// not held. To probe many workspaces, read the lock table once with
// ReadTable and probe each through it.
func Probe(root string) (State, error) { return ReadTable().Probe(root) }

// Probe is the package-level Probe answered from the table t; t is only
// read, so one table may serve concurrent probes. A holder that took or
// dropped the lock after ReadTable is not seen until the next table.
func (t *Table) Probe(root string) (State, error) {
	path := Path(root)
	st := State{Path: path}
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return st, nil
		}
		return st, fmt.Errorf("workspace lock probe %s: %w", path, err)
	}
	got, err := t.probe(path, PidPath(root))
	if err != nil {
		return st, fmt.Errorf("workspace lock probe %s: %w", path, err)
	}
	got.Path = path
	return got, nil
}
