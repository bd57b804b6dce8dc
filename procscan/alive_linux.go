package procscan

import "github.com/shirou/gopsutil/v4/process"

// alive reads /proc/<pid>/status; a missing entry means the process is gone.
// Thread ids share the pid space and have /proc entries of their own, so a
// dead process's pid reused for some other process's thread must not count:
// only a thread-group leader (Tgid == pid) is a process.
func alive(pid int32) bool {
	p := &process.Process{Pid: pid}
	tgid, err := p.Tgid()
	if err != nil || tgid != pid {
		return false
	}
	st, err := p.Status()
	if err != nil {
		return false
	}
	return len(st) == 0 || st[0] != process.Zombie
}
