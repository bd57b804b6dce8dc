//go:build !linux

package procscan

import (
	"fmt"

	"github.com/shirou/gopsutil/v4/process"
)

// Cwd returns the working directory of pid. Only Linux marks removed
// directories in the path, so deleted is always false here; callers find
// out when they stat the path.
func Cwd(pid int) (cwd string, deleted bool, err error) {
	if !validPID(pid) {
		return "", false, fmt.Errorf("cwd of pid %d: invalid pid", pid)
	}
	cwd, err = (&process.Process{Pid: int32(pid)}).Cwd()
	if err != nil {
		return "", false, fmt.Errorf("cwd of pid %d: %w", pid, err)
	}
	return cwd, false, nil
}

// cwdOf returns the process's working directory, "" when it cannot be read.
func cwdOf(p *process.Process) (string, bool) {
	cwd, deleted, err := Cwd(int(p.Pid))
	if err != nil {
		return "", false
	}
	return cwd, deleted
}
