//go:build unix

package procscan

import "os"

// RunsAsSelf reports whether pid runs as the calling user: both its real
// and its effective uid are this process's effective uid. Only such a
// process is this user's to signal; root's processes and other users' are
// not, even when the caller, as root, could.
func RunsAsSelf(pid int) (bool, error) {
	real, effective, err := UIDs(pid)
	if err != nil {
		return false, err
	}
	self := os.Geteuid()
	return real == self && effective == self, nil
}

// owner returns the effective uid pid runs as, -1 when it cannot be read,
// and whether it is known to run as another user (see RunsAsSelf).
func owner(pid int32) (uid int, other bool) {
	real, effective, err := UIDs(int(pid))
	if err != nil {
		return -1, false
	}
	self := os.Geteuid()
	return effective, real != self || effective != self
}
