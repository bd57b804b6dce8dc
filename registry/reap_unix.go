//go:build !windows

package registry

import (
	"os"
	"syscall"
)

// requestStop sends SIGTERM, which bones hubs handle by shutting down
// cleanly and removing their entry.
func requestStop(p *os.Process) error { return p.Signal(syscall.SIGTERM) }
