package procscan

import (
	"fmt"
	"os"
	"strings"

	"github.com/shirou/gopsutil/v4/process"
)

// deletedSuffix is what the kernel appends to /proc/<pid>/cwd when the
// directory has been removed.
const deletedSuffix = " (deleted)"

// Cwd returns the working directory of pid, as the kernel reports it
// (symlinks resolved), and whether that directory has been removed; then
// the path is the one it had. Another user's cwd is usually unreadable.
func Cwd(pid int) (cwd string, deleted bool, err error) {
	if !validPID(pid) {
		return "", false, fmt.Errorf("cwd of pid %d: invalid pid", pid)
	}
	return cwdOfProcess(&process.Process{Pid: int32(pid)})
}

// cwdOf returns the process's working directory, "" when it cannot be read
// (another user's process), and whether that directory has been removed.
func cwdOf(p *process.Process) (string, bool) {
	cwd, deleted, err := cwdOfProcess(p)
	if err != nil {
		return "", false
	}
	return cwd, deleted
}

func cwdOfProcess(p *process.Process) (string, bool, error) {
	cwd, err := p.Cwd()
	if err != nil {
		return "", false, fmt.Errorf("cwd of pid %d: %w", p.Pid, err)
	}
	trimmed, found := strings.CutSuffix(cwd, deletedSuffix)
	if !found {
		return cwd, false, nil
	}
	// A directory may really be named "x (deleted)"; only a path that no
	// longer exists under its reported name is gone.
	if _, err := os.Stat(cwd); err == nil {
		return cwd, false, nil
	}
	return trimmed, true, nil
}
