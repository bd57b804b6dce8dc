package procscan

import (
	"fmt"
	"slices"
)

// ListensOn reports whether pid holds a listening TCP socket on port. It
// fails where the platform does not list sockets (macOS, the BSDs).
func ListensOn(pid, port int) (bool, error) {
	l, err := readListeners()
	if err != nil {
		return false, err
	}
	ports, err := l.portsOf(int32(pid))
	if err != nil {
		return false, fmt.Errorf("listening ports of pid %d: %w", pid, err)
	}
	return slices.Contains(ports, port), nil
}
