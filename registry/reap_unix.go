//go:build !windows

package registry

import (
	"errors"
	"os"
	"syscall"
)

// requestStop sends SIGTERM, which bones hubs handle by shutting down
// cleanly and removing their entry.
func requestStop(p *os.Process) error { return p.Signal(syscall.SIGTERM) }

// gone reports whether p has exited. Signal 0 goes through the process
// handle where the platform has one (a pidfd on Linux), so a pid reused by a
// new process does not look like p; a zombie still accepts signals, hence
// the second check.
func gone(p *os.Process) bool {
	return errors.Is(p.Signal(syscall.Signal(0)), os.ErrProcessDone) || !pidAlive(p.Pid)
}
