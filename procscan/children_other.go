//go:build !linux

package procscan

import "github.com/shirou/gopsutil/v4/process"

// liveChildren counts p's live direct children from every process's parent
// pid (sysctl on macOS, a Toolhelp snapshot on Windows).
func liveChildren(p *process.Process) (int, error) {
	pids, err := childrenByPPID(p)
	return countAlive(pids), err
}
