//go:build !linux

package procscan

import (
	"fmt"

	"github.com/shirou/gopsutil/v4/process"
)

// UIDs returns the real and effective uid of pid, through gopsutil. Windows
// has no uids: there it always fails.
func UIDs(pid int) (real, effective int, err error) {
	if !validPID(pid) {
		return 0, 0, fmt.Errorf("uids of pid %d: invalid pid", pid)
	}
	uids, err := (&process.Process{Pid: int32(pid)}).Uids()
	if err != nil {
		return 0, 0, fmt.Errorf("uids of pid %d: %w", pid, err)
	}
	if len(uids) < 2 {
		return 0, 0, fmt.Errorf("uids of pid %d: got %d of them", pid, len(uids))
	}
	return int(uids[0]), int(uids[1]), nil
}
