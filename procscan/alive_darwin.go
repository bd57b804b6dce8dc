package procscan

import "golang.org/x/sys/unix"

// alive asks the kernel for the process's kinfo_proc. gopsutil's Status runs
// ps(1) on macOS, which is far too slow for a poll loop, so the state is read
// from the same sysctl gopsutil uses for everything else.
func alive(pid int32) bool {
	k, err := unix.SysctlKinfoProc("kern.proc.pid", int(pid))
	if err != nil || k.Proc.P_pid != pid {
		return false
	}
	return k.Proc.P_stat != sZOMB
}

// sZOMB is the p_stat value of a zombie (sys/proc.h).
const sZOMB = 5
