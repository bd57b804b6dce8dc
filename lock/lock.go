// Package lock implements the bones workspace lock: an exclusive flock on
// <root>/.bones/hub.lock plus the hub.lock.pid holder file, and a read-only
// Probe that reports the holder without ever taking the lock.
package lock

import "fmt"

// FileName and PidFileName are the basenames of the lock and holder files.
const (
	FileName    = "hub.lock"
	PidFileName = "hub.lock.pid"
)

// ErrLockHeld is returned by Acquire when another live process holds the lock.
type ErrLockHeld struct {
	PID  int
	Path string
}

func (e *ErrLockHeld) Error() string {
	return fmt.Sprintf("workspace lock %s is held by pid %d", e.Path, e.PID)
}

// StateDir returns the workspace's bones state directory: <root>/.bones, or
// BONES_DIR when set (relative values are taken relative to root).
func StateDir(root string) string { panic("not implemented") }

// Path returns the lock file path for the workspace at root.
func Path(root string) string { panic("not implemented") }

// PidPath returns the holder pid file path for the workspace at root.
func PidPath(root string) string { panic("not implemented") }

// Acquire takes the exclusive, non-blocking workspace lock.
func Acquire(root string) (release func(), err error) { panic("not implemented") }

// State is what Probe observed about a workspace lock.
type State struct {
	Held bool   // some process holds the flock
	PID  int    // holder pid when known, else 0
	Path string // lock file path
}

// Probe reports whether the lock at root is held and by whom, without ever
// taking it.
func Probe(root string) (State, error) { panic("not implemented") }
