package procscan

import "github.com/shirou/gopsutil/v4/process"

// alive reads the process state from /proc/<pid>/status; a missing entry
// means the process is gone.
func alive(pid int32) bool {
	p := &process.Process{Pid: pid}
	st, err := p.Status()
	if err != nil {
		return false
	}
	return len(st) == 0 || st[0] != process.Zombie
}
