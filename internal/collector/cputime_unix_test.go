//go:build unix

package collector

import (
	"syscall"
	"time"
)

// processCPU returns the user plus system CPU time this process has used,
// which unlike wall time does not grow when other processes load the host.
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
