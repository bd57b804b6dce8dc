package procscan

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"strconv"

	"golang.org/x/sys/unix"
)

// UIDs returns the real and effective uid of pid, from the Uid line of
// /proc/<pid>/status. A process that is gone yields an error wrapping
// ErrGone.
func UIDs(pid int) (real, effective int, err error) {
	if !validPID(pid) {
		return 0, 0, fmt.Errorf("uids of pid %d: invalid pid", pid)
	}
	buf := make([]byte, statusHead)
	n, err := readProc("/proc/"+strconv.Itoa(pid)+"/status", buf)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ESRCH) {
		return 0, 0, fmt.Errorf("uids of pid %d: %w", pid, ErrGone)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("uids of pid %d: %w", pid, err)
	}
	// Uid: real, effective, saved set, filesystem.
	f := bytes.Fields(statusField(buf[:n], "Uid:"))
	if len(f) < 2 {
		return 0, 0, fmt.Errorf("uids of pid %d: no Uid line in its status", pid)
	}
	real, err1 := strconv.Atoi(string(f[0]))
	effective, err2 := strconv.Atoi(string(f[1]))
	if err := errors.Join(err1, err2); err != nil {
		return 0, 0, fmt.Errorf("uids of pid %d: %w", pid, err)
	}
	return real, effective, nil
}
